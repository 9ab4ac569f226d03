package engine_test

import (
	"archive/tar"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/mount"
)

// tarNames lists the entry names of a tar stream.
func tarNames(t *testing.T, data string) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		out = append(out, h.Name)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCopy: docker cp out of and into running, stopped and created
// containers, files and directories, "dir/." and tar streams on stdin
// and stdout, through a bind mount, and what it refuses.
func TestCopy(t *testing.T) {
	d := newCtrDaemon(t)
	host := t.TempDir()
	bind := t.TempDir()
	if err := os.WriteFile(filepath.Join(bind, "on-host"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.OK("run", "-d", "--name", "box", "-v", bind+":/data", d.Image, "sh", "-c",
		"mkdir -p /src/sub && echo a > /src/a && echo b > /src/sub/b && ln -sf /etc/passwd /src/link && sleep 1000")
	waitFor(t, "the container's files", 10*time.Second, func() bool { return d.Docker("exec", "box", "test", "-L", "/src/link").Code == 0 })

	// Out: a file, a directory, its contents only, a stream.
	d.OK("cp", "box:/src/a", filepath.Join(host, "a"))
	if got := readFile(t, filepath.Join(host, "a")); got != "a\n" {
		t.Errorf("cp of a file: got %q", got)
	}
	d.OK("cp", "box:/src", filepath.Join(host, "copy"))
	if got := readFile(t, filepath.Join(host, "copy/sub/b")); got != "b\n" {
		t.Errorf("cp of a directory to a new name: got %q", got)
	}
	if l, err := os.Readlink(filepath.Join(host, "copy/link")); err != nil || l != "/etc/passwd" {
		t.Errorf("cp of a symlink: got %q, %v; want the link itself", l, err)
	}
	os.Mkdir(filepath.Join(host, "into"), 0o755)
	d.OK("cp", "box:/src", filepath.Join(host, "into"))
	if _, err := os.Stat(filepath.Join(host, "into/src/a")); err != nil {
		t.Errorf("cp of a directory into a directory: %v", err)
	}
	os.Mkdir(filepath.Join(host, "contents"), 0o755)
	d.OK("cp", "box:/src/.", filepath.Join(host, "contents"))
	if _, err := os.Stat(filepath.Join(host, "contents/sub/b")); err != nil {
		t.Errorf("cp of dir/. : %v", err)
	}
	if got, want := tarNames(t, d.OK("cp", "box:/src/sub", "-")), []string{"sub/", "sub/b"}; !slices.Equal(got, want) {
		t.Errorf("cp to -: got %q, want %q", got, want)
	}
	// -L follows the link, in the container: the container's passwd.
	d.OK("cp", "-L", "box:/src/link", filepath.Join(host, "passwd"))
	if got := readFile(t, filepath.Join(host, "passwd")); !strings.HasPrefix(got, "root:x:0:0:root:/root:/bin/sh\nnobody") {
		t.Errorf("cp -L of a link to /etc/passwd: got %q, want the container's file", got)
	}

	// In: a file, a directory, a stream.
	os.WriteFile(filepath.Join(host, "up"), []byte("up\n"), 0o600)
	d.OK("cp", filepath.Join(host, "up"), "box:/tmp/")
	d.OK("cp", filepath.Join(host, "up"), "box:/tmp/renamed")
	d.OK("cp", filepath.Join(host, "copy"), "box:/tmp/dir")
	if out := d.OK("exec", "box", "sh", "-c", "cat /tmp/up /tmp/renamed /tmp/dir/sub/b; stat -c %a /tmp/up"); out != "up\nup\nb\n600\n" {
		t.Errorf("cp into the container: got %q", out)
	}
	var stream bytes.Buffer
	tw := tar.NewWriter(&stream)
	tw.WriteHeader(&tar.Header{Name: "streamed/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "streamed/f", Mode: 0o644, Size: 3, Uid: 1234, Gid: 4321})
	tw.Write([]byte("st\n"))
	tw.Close()
	if r := d.DockerIn(bytes.NewReader(stream.Bytes()), "cp", "-", "box:/tmp"); r.Code != 0 {
		t.Fatalf("cp - : %d %s", r.Code, r.Stderr)
	}
	if out := d.OK("exec", "box", "sh", "-c", "cat /tmp/streamed/f; stat -c %u:%g /tmp/streamed/f"); out != "st\n1234:4321\n" {
		t.Errorf("cp of a tar stream: got %q", out)
	}

	// Through the bind mount, both ways.
	d.OK("cp", "box:/data/on-host", filepath.Join(host, "from-bind"))
	if got := readFile(t, filepath.Join(host, "from-bind")); got != "bound\n" {
		t.Errorf("cp out of a bind mount: got %q", got)
	}
	d.OK("cp", filepath.Join(host, "up"), "box:/data/in-bind")
	if got := readFile(t, filepath.Join(bind, "in-bind")); got != "up\n" {
		t.Errorf("cp into a bind mount: got %q", got)
	}

	// Refusals.
	if stderr := d.Fail("cp", "box:/no/such", host); !strings.Contains(stderr, "Could not find the file /no/such in container box") {
		t.Errorf("cp of a missing path: got %q", stderr)
	}
	if stderr := d.Fail("cp", filepath.Join(host, "up"), "box:/missing-dir/"); !strings.Contains(stderr, "no such directory") && !strings.Contains(stderr, "not exist") {
		t.Errorf("cp to a missing directory: got %q", stderr)
	}
	if code, _, _ := d.API(http.MethodHead, "/containers/box/archive?path=/nope", nil); code != http.StatusNotFound {
		t.Errorf("HEAD of a missing path: got %d, want 404", code)
	}
	if code, _, body := d.API(http.MethodPut, "/containers/box/archive?path=/src/a", bytes.NewReader(stream.Bytes())); code != http.StatusBadRequest {
		t.Errorf("PUT onto a file: got %d %s, want 400", code, body)
	}
	if code, _, _ := d.API(http.MethodGet, "/containers/nobox/archive?path=/", nil); code != http.StatusNotFound {
		t.Errorf("GET of a missing container: got %d, want 404", code)
	}

	// A stopped container, and one never started.
	d.OK("stop", "-t", "0", "box")
	d.OK("cp", "box:/tmp/renamed", filepath.Join(host, "stopped"))
	if got := readFile(t, filepath.Join(host, "stopped")); got != "up\n" {
		t.Errorf("cp out of a stopped container: got %q", got)
	}
	d.OK("cp", filepath.Join(host, "up"), "box:/tmp/while-stopped")
	d.OK("cp", "box:/data/on-host", filepath.Join(host, "stopped-bind"))
	if got := readFile(t, filepath.Join(host, "stopped-bind")); got != "bound\n" {
		t.Errorf("cp out of a stopped container's bind mount: got %q", got)
	}
	d.OK("start", "box")
	if out := d.OK("exec", "box", "cat", "/tmp/while-stopped"); out != "up\n" {
		t.Errorf("a file copied into a stopped container: got %q", out)
	}
	d.OK("create", "--name", "fresh", d.Image, "true")
	d.OK("cp", filepath.Join(host, "up"), "fresh:/up")
	if got := d.OK("cp", "fresh:/up", "-"); !strings.Contains(got, "up\n") {
		t.Errorf("cp in and out of a created container: got %q", got)
	}
	// -a gives the files the container's user; without it they keep
	// their owners (docker's own behaviour, whatever its docs say).
	d.OK("create", "--name", "usr", "-u", "nobody", d.Image, "true")
	os.Chown(filepath.Join(host, "up"), 1234, 1234)
	d.OK("cp", "-a", filepath.Join(host, "up"), "usr:/tmp/archived")
	d.OK("cp", filepath.Join(host, "up"), "usr:/tmp/kept")
	for name, want := range map[string]int{"archived": 65534, "kept": 1234} {
		tr := tar.NewReader(strings.NewReader(d.OK("cp", "usr:/tmp/"+name, "-")))
		if h, err := tr.Next(); err != nil || h.Uid != want || h.Gid != want {
			t.Errorf("owner of a file copied as %s: got %v (%v), want %d", name, h, err, want)
		}
	}
	// The network files are the container's, through their bind mounts.
	short := strings.TrimSpace(d.OK("inspect", "-f", "{{.Config.Hostname}}", "box"))
	if got := d.OK("cp", "box:/etc/hostname", "-"); !strings.Contains(got, short+"\n") {
		t.Errorf("cp of /etc/hostname: got %q, want the container's hostname %s", got, short)
	}

	fresh := strings.TrimSpace(d.OK("inspect", "-f", "{{.Id}}", "fresh"))
	if m, _ := mount.Under(d.dir); slices.ContainsFunc(m, func(p string) bool { return strings.Contains(p, fresh) }) {
		t.Errorf("mounts left on the host by cp into a created container: %q", m)
	}
}

// TestCopyHostile: symlinks in a container that point at host paths
// resolve inside the container, both ways; read-only targets are
// refused.
func TestCopyHostile(t *testing.T) {
	d := newCtrDaemon(t)
	host := t.TempDir()
	canary := filepath.Join(host, "canary")
	os.WriteFile(canary, []byte("host\n"), 0o644)
	d.OK("run", "-d", "--name", "evil", d.Image, "sh", "-c",
		"mkdir /jail && echo jailed > /jail/canary && ln -s "+host+" /esc && ln -s ../../../../../../"+host+" /esc-rel && ln -s / /root-link && sleep 1000")
	waitFor(t, "the container's links", 10*time.Second, func() bool { return d.Docker("exec", "evil", "test", "-L", "/root-link").Code == 0 })

	// The link's target does not exist in the container: not found, and
	// never the host's directory.
	for _, p := range []string{"/esc/canary", "/esc-rel/canary", "/esc/"} {
		if r := d.Docker("cp", "evil:"+p, "-"); r.Code == 0 || strings.Contains(r.Stdout, "host") {
			t.Errorf("cp out of %s: exit %d, output %q; want an error", p, r.Code, r.Stdout)
		}
	}
	// Writing through them creates nothing on the host.
	os.WriteFile(filepath.Join(host, "payload"), []byte("payload\n"), 0o644)
	d.Docker("cp", filepath.Join(host, "payload"), "evil:/esc/")
	d.Docker("cp", filepath.Join(host, "payload"), "evil:/esc-rel/dropped")
	d.Docker("cp", filepath.Join(host, "payload"), "evil:/root-link"+host+"/dropped")
	if got := files(t, host); !slices.Equal(got, []string{"canary", "payload"}) {
		t.Errorf("host directory after hostile copies: got %q, want canary and payload only", got)
	}
	if got := readFile(t, canary); got != "host\n" {
		t.Errorf("host canary: got %q", got)
	}
	// A link to / is the container's root.
	d.OK("exec", "evil", "sh", "-c", "mkdir -p /root-link"+host+" && echo inside > /root-link"+host+"/canary")
	if got := d.OK("cp", "-L", "evil:/root-link"+host+"/canary", "-"); !strings.Contains(got, "inside\n") {
		t.Errorf("cp through a link to /: got %q, want the container's file", got)
	}
	// Now that the links' targets exist in the container, copies through
	// them land there.
	d.OK("cp", filepath.Join(host, "payload"), "evil:/esc-rel/dropped")
	if out := d.OK("exec", "evil", "cat", host+"/dropped"); out != "payload\n" {
		t.Errorf("cp through a relative link climbing out: got %q in the container", out)
	}
	if got := files(t, host); !slices.Equal(got, []string{"canary", "payload"}) {
		t.Errorf("host directory after copies through links: got %q", got)
	}

	// Read-only rootfs, read-only bind.
	ro := t.TempDir()
	d.OK("run", "-d", "--name", "ro", "--read-only", "-v", ro+":/rodata:ro", "-v", host+":/rw", d.Image, "sleep", "1000")
	for _, tt := range []struct{ dst, want string }{
		{"ro:/tmp", "container rootfs is marked read-only"},
		{"ro:/rodata", "mounted volume is marked read-only"},
	} {
		if stderr := d.Fail("cp", filepath.Join(host, "payload"), tt.dst); !strings.Contains(stderr, tt.want) {
			t.Errorf("cp to %s: got %q, want %q", tt.dst, stderr, tt.want)
		}
	}
	d.OK("cp", filepath.Join(host, "payload"), "ro:/rw/to-rw")
	if got := readFile(t, filepath.Join(host, "to-rw")); got != "payload\n" {
		t.Errorf("cp to a read-write bind of a read-only container: got %q", got)
	}
}

// TestCopyVolume: paths under a named volume's destination are the
// volume's, running or stopped.
func TestCopyVolume(t *testing.T) {
	d := newCtrDaemon(t)
	d.OK("run", "-d", "--name", "vc", "-v", "cpvol:/vol", d.Image, "sleep", "1000")
	var stream bytes.Buffer
	tw := tar.NewWriter(&stream)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 3})
	tw.Write([]byte("in\n"))
	tw.Close()
	if r := d.DockerIn(&stream, "cp", "-", "vc:/vol"); r.Code != 0 {
		t.Fatalf("cp - into a volume: %s", r.Stderr)
	}
	d.OK("stop", "-t", "0", "vc")
	if out := d.OK("run", "--rm", "-v", "cpvol:/other", d.Image, "cat", "/other/f"); out != "in\n" {
		t.Errorf("the volume in another container: got %q", out)
	}
	tr := tar.NewReader(strings.NewReader(d.OK("cp", "vc:/vol/f", "-")))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(tr); string(b) != "in\n" {
		t.Errorf("cp out of a stopped container's volume: got %q", b)
	}
	d.OK("rm", "vc")
	d.OK("volume", "rm", "cpvol")
}
