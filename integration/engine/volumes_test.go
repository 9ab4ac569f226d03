package engine_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/mount"
)

var anonName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// volumeImage commits an image whose VOLUME /seed holds a file owned by
// nobody, for the anonymous volume and copy-up tests.
func volumeImage(t *testing.T, d *ctrDaemon) string {
	t.Helper()
	d.OK("run", "--name", "seeder", d.Image, "sh", "-c", "mkdir -p /seed/sub && echo seeded > /seed/f && echo deep > /seed/sub/g && chown 65534:65534 /seed/f && chmod 0750 /seed")
	d.OK("commit", "-c", "VOLUME /seed", "seeder", "volimg:test")
	d.OK("rm", "seeder")
	return "volimg:test"
}

// TestVolumes: docker volume create, ls, inspect, rm and prune; volumes
// shared by containers, refused removal while in use, anonymous
// volumes of -v and of the image's VOLUME with rm -v, copy-up,
// --volumes-from, --mount, a tmpfs volume, docker system df -v.
func TestVolumes(t *testing.T) {
	d := newCtrDaemon(t)
	dataDir := func(name string) string { return filepath.Join(d.Data, "volumes", name, "_data") }

	func() { // create ls inspect rm
		if got := strings.TrimSpace(d.OK("volume", "create", "--label", "team=a", "data")); got != "data" {
			t.Errorf("volume create: got %q, want data", got)
		}
		d.OK("volume", "create", "other")
		ls := d.OK("volume", "ls")
		if !strings.Contains(ls, "DRIVER") || !regexp.MustCompile(`(?m)^local\s+data$`).MatchString(ls) {
			t.Errorf("volume ls: got\n%s\nwant a header and 'local data'", ls)
		}
		if got := lines(d.OK("volume", "ls", "-q", "--filter", "label=team=a")); !slices.Equal(got, []string{"data"}) {
			t.Errorf("volume ls -q --filter label=team=a: got %q, want [data]", got)
		}
		if got := lines(d.OK("volume", "ls", "-q", "--filter", "name=oth")); !slices.Equal(got, []string{"other"}) {
			t.Errorf("volume ls --filter name=oth: got %q, want [other]", got)
		}
		got := strings.TrimSpace(d.OK("volume", "inspect", "-f", "{{.Driver}} {{.Scope}} {{.Mountpoint}} {{.Labels.team}}", "data"))
		if want := "local local " + dataDir("data") + " a"; got != want {
			t.Errorf("volume inspect: got %q, want %q", got, want)
		}
		if msg := d.Fail("volume", "create", "-o", "bogus=1", "x1"); !strings.Contains(msg, `invalid option: "bogus"`) {
			t.Errorf("create with a bad option: got %q", msg)
		}
		if msg := d.Fail("volume", "inspect", "nosuch"); !strings.Contains(msg, "no such volume") {
			t.Errorf("inspect of a missing volume: got %q", msg)
		}
		if code, _, body := d.API("POST", "/volumes/create", strings.NewReader(`{"Name":"v","Driver":"nfsplugin"}`), "Content-Type", "application/json"); code != 404 || !strings.Contains(body, "not found") {
			t.Errorf("create with an unknown driver: got %d %s, want 404", code, body)
		}
		d.OK("volume", "rm", "other")
		if _, err := os.Stat(filepath.Join(d.Data, "volumes", "other")); !os.IsNotExist(err) {
			t.Errorf("removed volume's directory: got %v, want gone", err)
		}
	}()

	func() { // shared between containers
		d.OK("run", "--rm", "-v", "data:/d", d.Image, "sh", "-c", "echo hello > /d/f")
		if got := d.OK("run", "--rm", "-v", "data:/d:ro", d.Image, "cat", "/d/f"); got != "hello\n" {
			t.Errorf("second container reads: got %q, want hello", got)
		}
		if got := readFile(t, filepath.Join(dataDir("data"), "f")); got != "hello\n" {
			t.Errorf("on the host: got %q, want hello", got)
		}
		d.OK("create", "--name", "holder", "-v", "data:/d", d.Image, "true")
		mounts := d.inspect("holder", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Source}} {{.Destination}} {{.Driver}} {{.RW}}{{end}}")
		if want := "volume data " + dataDir("data") + " /d local true"; mounts != want {
			t.Errorf("inspect Mounts: got %q, want %q", mounts, want)
		}
		id := d.inspect("holder", "{{.Id}}")
		msg := d.Fail("volume", "rm", "data")
		if !strings.Contains(msg, "volume is in use - ["+id+"]") {
			t.Errorf("rm of a volume in use: got %q, want it to name %s", msg, id)
		}
		if got := lines(d.OK("ps", "-aq", "--filter", "volume=data")); len(got) != 1 {
			t.Errorf("ps --filter volume=data: got %q, want holder", got)
		}
		d.OK("rm", "holder")
		d.OK("volume", "rm", "data")
	}()

	img := volumeImage(t, d)

	func() { // anonymous volume of the image and rm -v
		if got := d.OK("run", "--name", "anon", img, "cat", "/seed/f"); got != "seeded\n" {
			t.Errorf("content copied up: got %q, want seeded", got)
		}
		name := d.inspect("anon", "{{range .Mounts}}{{.Name}}{{end}}")
		if !anonName.MatchString(name) {
			t.Fatalf("anonymous volume name: got %q, want 64 hex digits", name)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dataDir(name), "f"), &st); err != nil || st.Uid != 65534 {
			t.Errorf("copied file's owner: got uid %d (%v), want 65534", st.Uid, err)
		}
		if fi, err := os.Stat(dataDir(name)); err != nil || fi.Mode().Perm() != 0o750 {
			t.Errorf("volume root's mode: got %v (%v), want 0750 as in the image", fi.Mode(), err)
		}
		if got := strings.TrimSpace(d.OK("volume", "inspect", "-f", "{{index .Labels \"com.docker.volume.anonymous\"}}|{{.Name}}", name)); got != "|"+name {
			t.Errorf("anonymous label: got %q", got)
		}
		d.OK("rm", "-v", "anon")
		if r := d.Docker("volume", "inspect", name); r.Code == 0 {
			t.Errorf("rm -v left the anonymous volume %s", name)
		}
		// -v /path: an anonymous volume too; --rm removes it.
		d.OK("run", "--rm", "-v", "/scratch", d.Image, "sh", "-c", "echo x > /scratch/x")
		if got := lines(d.OK("volume", "ls", "-q")); len(got) != 0 {
			t.Errorf("after --rm: got volumes %q, want none", got)
		}
	}()

	func() { // copy-up and nocopy
		if got := d.OK("run", "--rm", "-v", "fresh:/seed", img, "cat", "/seed/sub/g"); got != "deep\n" {
			t.Errorf("named volume copied up: got %q, want deep", got)
		}
		// Not empty any more: no second copy over what a container wrote.
		d.OK("run", "--rm", "-v", "fresh:/seed", img, "rm", "/seed/f")
		if got := d.Docker("run", "--rm", "-v", "fresh:/seed", img, "test", "-e", "/seed/f"); got.Code == 0 {
			t.Errorf("a volume with content was filled again")
		}
		// A subpath of a volume; one that is missing or leaves the
		// volume through a symlink is refused.
		if got := d.OK("run", "--rm", "--mount", "type=volume,src=fresh,dst=/part,volume-subpath=sub", d.Image, "cat", "/part/g"); got != "deep\n" {
			t.Errorf("volume-subpath: got %q, want deep", got)
		}
		d.OK("run", "--rm", "-v", "fresh:/seed", d.Image, "ln", "-s", "/etc", "/seed/esc")
		for _, sub := range []string{"nosuch", "esc"} {
			if r := d.Docker("run", "--rm", "--mount", "type=volume,src=fresh,dst=/part,volume-subpath="+sub, d.Image, "true"); r.Code == 0 {
				t.Errorf("volume-subpath=%s: got exit 0, want a refusal", sub)
			}
		}
		if got := d.OK("run", "--rm", "-v", "bare:/seed:nocopy", img, "ls", "-A", "/seed"); got != "" {
			t.Errorf("nocopy: got %q, want an empty volume", got)
		}
		if got := d.OK("run", "--rm", "--mount", "type=volume,src=viamount,dst=/m,volume-label=k=v", d.Image, "sh", "-c", "echo m > /m/x && cat /m/x"); got != "m\n" {
			t.Errorf("--mount type=volume: got %q", got)
		}
		if got := strings.TrimSpace(d.OK("volume", "inspect", "-f", "{{.Labels.k}}", "viamount")); got != "v" {
			t.Errorf("--mount volume-label: got %q, want v", got)
		}
	}()

	func() { // volumes-from
		d.OK("create", "--name", "src", "-v", "shared:/s", d.Image, "true")
		d.OK("run", "--rm", "--volumes-from", "src", d.Image, "sh", "-c", "echo y > /s/y")
		if got := readFile(t, filepath.Join(dataDir("shared"), "y")); got != "y\n" {
			t.Errorf("written through --volumes-from: got %q", got)
		}
		if r := d.Docker("run", "--rm", "--volumes-from", "src:ro", d.Image, "sh", "-c", "echo z > /s/z"); r.Code == 0 {
			t.Errorf("--volumes-from src:ro: a write succeeded")
		}
		if msg := d.Fail("run", "--rm", "--volumes-from", "nosuch", d.Image, "true"); !strings.Contains(msg, "No such container: nosuch") {
			t.Errorf("--volumes-from a missing container: got %q", msg)
		}
		d.OK("rm", "src")
	}()

	func() { // tmpfs volume
		d.OK("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", "tv")
		d.OK("run", "-d", "--name", "t1", "-v", "tv:/t", d.Image, "sh", "-c", "echo 1 > /t/a; sleep 1000")
		waitFor(t, "the file in the tmpfs volume", 10*time.Second, func() bool { return d.Docker("exec", "t1", "test", "-e", "/t/a").Code == 0 })
		if mps, _ := mount.Under(dataDir("tv")); !slices.Contains(mps, dataDir("tv")) {
			t.Errorf("tmpfs volume not mounted while in use: %q", mps)
		}
		if got := d.OK("run", "--rm", "-v", "tv:/t", d.Image, "cat", "/t/a"); got != "1\n" {
			t.Errorf("second container on the tmpfs volume: got %q", got)
		}
		d.OK("rm", "-f", "t1")
		if mps, _ := mount.Under(dataDir("tv")); len(mps) != 0 {
			t.Errorf("tmpfs volume still mounted after its last user: %q", mps)
		}
		if got := d.OK("run", "--rm", "-v", "tv:/t", d.Image, "ls", "-A", "/t"); got != "" {
			t.Errorf("tmpfs volume at its next first use: got %q, want empty", got)
		}
	}()

	func() { // references and mounts outlive a berthd restart (live restore)
		d.OK("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "livetv")
		d.OK("run", "-d", "--name", "live", "-v", "livetv:/t", "-v", "kept:/k", d.Image, "sh", "-c", "echo 1 > /t/a; sleep 1000")
		waitFor(t, "the file in the tmpfs volume", 10*time.Second, func() bool { return d.Docker("exec", "live", "test", "-e", "/t/a").Code == 0 })
		d.Stop()
		d.Start()
		if msg := d.Fail("volume", "rm", "kept"); !strings.Contains(msg, "volume is in use") {
			t.Errorf("rm after a restart of a volume in use: got %q", msg)
		}
		if got := d.OK("exec", "live", "cat", "/t/a"); got != "1\n" {
			t.Errorf("tmpfs volume after the restart: got %q", got)
		}
		d.OK("rm", "-f", "live")
		if mps, _ := mount.Under(dataDir("livetv")); len(mps) != 0 {
			t.Errorf("tmpfs volume still mounted after its restored user went: %q", mps)
		}
		d.OK("volume", "rm", "kept", "livetv")
	}()

	func() { // system df and prune
		df := d.OK("system", "df", "-v")
		if !strings.Contains(df, "VOLUME NAME") || !strings.Contains(df, "fresh") {
			t.Errorf("system df -v: got\n%s\nwant the volumes listed", df)
		}
		d.OK("create", "-v", "/anon", d.Image, "true") // a used anonymous volume stays
		d.OK("run", "--name", "gone", "-v", "/anon2", d.Image, "true")
		anon2 := d.inspect("gone", "{{range .Mounts}}{{.Name}}{{end}}")
		d.OK("rm", "gone") // without -v: the anonymous volume is left unused
		out := d.OK("volume", "prune", "-f")
		if !strings.Contains(out, anon2) || strings.Contains(out, "fresh") {
			t.Errorf("volume prune: got\n%s\nwant only %s", out, anon2)
		}
		out = d.OK("volume", "prune", "-a", "-f")
		for _, n := range []string{"fresh", "bare", "viamount", "shared", "tv"} {
			if !strings.Contains(out, n) {
				t.Errorf("volume prune -a: got\n%s\nwant %s removed", out, n)
			}
		}
		if got := lines(d.OK("volume", "ls", "-q")); len(got) != 1 || !anonName.MatchString(got[0]) {
			t.Errorf("after prune -a: got %q, want the one anonymous volume in use", got)
		}
	}()
}
