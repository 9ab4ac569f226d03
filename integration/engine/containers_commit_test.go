package engine_test

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestCommit: docker commit of a running container with a file added
// and one deleted; the image runs with both changes, its --change CMD
// and ENV, its author and message; history shows the entry; the
// container keeps running; docker save of it is a valid archive whose
// new layer holds the changes and none of the runtime's mount points,
// and podman loads it.
func TestCommit(t *testing.T) {
	d := newCtrDaemon(t)
	since := time.Now()
	d.OK("run", "-d", "--name", "box", "-e", "KEPT=1", d.Image, "sh", "-c", "echo new > /newfile && rm /etc/group && sleep 1000")
	waitFor(t, "the container's changes", 10*time.Second, func() bool { return d.Docker("exec", "box", "test", "-e", "/newfile").Code == 0 })

	id := strings.TrimSpace(d.OK("commit", "-a", "Ann Author", "-m", "a message", "-c", `CMD ["cat", "/newfile"]`, "-c", "ENV FOO=bar", "box", "committed:v1"))
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("docker commit: got %q, want an image ID", id)
	}
	if st := strings.TrimSpace(d.OK("inspect", "-f", "{{.State.Status}}", "box")); st != "running" {
		t.Errorf("the container after commit: got %s, want running", st)
	}
	if out := d.OK("run", "--rm", "committed:v1"); out != "new\n" {
		t.Errorf("run of the committed image (its CMD): got %q", out)
	}
	if out := d.OK("run", "--rm", "committed:v1", "sh", "-c", "test -e /etc/group || echo gone; echo $FOO $KEPT"); out != "gone\nbar 1\n" {
		t.Errorf("run of the committed image: got %q, want the deletion and both variables", out)
	}
	if got := strings.TrimSpace(d.OK("inspect", "-f", "{{.Author}}|{{.Id}}", "committed:v1")); got != "Ann Author|"+id {
		t.Errorf("inspect of the committed image: got %q", got)
	}
	hist := lines(d.OK("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "committed:v1"))
	if len(hist) == 0 || hist[0] != "sh -c echo new > /newfile && rm /etc/group && sleep 1000|a message" {
		t.Errorf("history: got %q, want the commit's entry first", hist)
	}

	// A commit that changed nothing adds an empty history entry, no layer.
	d.OK("create", "--name", "idle", d.Image, "true")
	d.OK("commit", "idle", "committed:empty")
	layers := func(ref string) int {
		n := 0
		fmt.Sscan(d.OK("inspect", "-f", "{{len .RootFS.Layers}}", ref), &n)
		return n
	}
	if got, want := layers("committed:empty"), layers(d.Image); got != want {
		p := filepath.Join(t.TempDir(), "empty.tar")
		d.OK("save", "-o", p, "committed:empty")
		t.Errorf("layers of an empty commit: got %d, want %d (the parent's); top layer %q", got, want, topLayerNames(t, p))
	}

	out := d.OK("events", "--since", fmt.Sprint(since.Unix()), "--until", fmt.Sprint(time.Now().Unix()+1),
		"--filter", "event=commit", "--format", "{{.Actor.Attributes.name}} {{.Actor.Attributes.imageID}}")
	if !strings.Contains(out, "box "+id) {
		t.Errorf("commit events: got %q, want one for box", out)
	}

	// docker save: the new layer holds the changes only.
	dir := t.TempDir()
	archivePath := filepath.Join(dir, "committed.tar")
	d.OK("save", "-o", archivePath, "committed:v1")
	top := topLayerNames(t, archivePath)
	for _, want := range []string{"newfile", "etc/.wh.group"} {
		if !slices.Contains(top, want) {
			t.Errorf("committed layer: %q missing from %q", want, top)
		}
	}
	for _, bad := range []string{"etc/hosts", "etc/resolv.conf", "etc/hostname", "proc/", "sys/", "dev/", "sbin/berth-init"} {
		if slices.Contains(top, bad) {
			t.Errorf("committed layer holds the mount point %q: %q", bad, top)
		}
	}
	podman := testutil.RequireBinary(t, "podman")
	root := filepath.Join(dir, "podman")
	os.MkdirAll(filepath.Join(root, "tmp"), 0o755)
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	cmd := exec.Command(podman, "--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none", "load", "-i", archivePath)
	cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(root, "tmp"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "committed:v1") {
		t.Errorf("podman load of the saved commit: %v\n%s", err, out)
	}
}

// topLayerNames lists the entries of the last layer of the first image
// of a docker save archive.
func topLayerNames(t *testing.T, archivePath string) []string {
	t.Helper()
	read := func(name string) []byte {
		f, err := os.Open(archivePath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err != nil {
				t.Fatalf("%s not in the archive: %v", name, err)
			}
			if path.Clean(h.Name) == name {
				b, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(read("manifest.json"), &manifest); err != nil || len(manifest) == 0 || len(manifest[0].Layers) == 0 {
		t.Fatalf("manifest.json: %v %+v", err, manifest)
	}
	ls := manifest[0].Layers
	data := read(path.Clean(ls[len(ls)-1]))
	var r io.Reader = strings.NewReader(string(data))
	if zr, err := gzip.NewReader(strings.NewReader(string(data))); err == nil {
		r = zr
	}
	return tarNames(t, mustRead(t, r))
}

func mustRead(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
