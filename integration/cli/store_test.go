package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemPrune: stopped containers and dangling images go, running
// containers and the images they use stay, and the report says what
// went.
func TestSystemPrune(t *testing.T) {
	d := containerDaemon(t)
	stopped := strings.TrimSpace(d.OK("run", "-d", "bb", "true"))
	d.OK("wait", stopped)
	running := strings.TrimSpace(d.OK("run", "-d", "bb", "sleep", "100"))
	tarball := rootfsTar(t, map[string]string{"a.txt": "one\n"})
	old := strings.TrimSpace(d.OK("import", tarball, "pr:v1"))
	d.OK("import", rootfsTar(t, map[string]string{"a.txt": "two\n"}), "pr:v1") // old is now dangling

	// Without -f it asks, and "n" leaves everything.
	if r := d.BerthIn(strings.NewReader("n\n"), "system", "prune"); r.Code != 0 || !strings.Contains(r.Stdout, "  - all stopped containers") {
		t.Fatalf("berth system prune answered n: got %s", r)
	}
	if got := lines(d.OK("ps", "-aq", "--no-trunc")); len(got) != 2 {
		t.Fatalf("after a refused prune: got containers %q, want 2", got)
	}
	out := d.OK("system", "prune", "-f")
	for _, want := range []string{"Deleted Containers:\n" + stopped + "\n", "Deleted Images:\n", "deleted: " + old, "Total reclaimed space: "} {
		if !strings.Contains(out, want) {
			t.Errorf("berth system prune -f lacks %q:\n%s", want, out)
		}
	}
	if got := lines(d.OK("ps", "-aq", "--no-trunc")); len(got) != 1 || got[0] != running {
		t.Errorf("after prune: got containers %q, want only the running %s", got, running)
	}
	imgs := d.OK("images", "--format", "{{.Repository}}:{{.Tag}}")
	if !strings.Contains(imgs, "bb:latest") || !strings.Contains(imgs, "pr:v1") || strings.Contains(imgs, "<none>") {
		t.Errorf("after prune: got images\n%s\nwant bb:latest and pr:v1, no dangling one", imgs)
	}
	// -a removes the images no container uses; bb is used by the running one.
	out = d.OK("system", "prune", "-a", "-f")
	if !strings.Contains(out, "untagged: pr:v1") || strings.Contains(out, "untagged: bb:latest") {
		t.Errorf("berth system prune -a -f: got\n%s", out)
	}
	d.OK("rm", "-f", running)
}

// TestSystemFsck: a consistent store passes; a corrupt blob is found,
// named, and removed by --repair, which then says what still needs a
// pull; once the image goes, the store is consistent again.
func TestSystemFsck(t *testing.T) {
	d := newDaemon(t)
	id := strings.TrimSpace(d.OK("import", rootfsTar(t, map[string]string{"f.txt": "fsck\n"}), "fsck:v1"))
	if out := d.OK("system", "fsck"); !strings.Contains(out, "the store is consistent") {
		t.Fatalf("berth system fsck on a fresh store: got\n%s", out)
	}
	// Corrupt one of the image's blobs (the largest).
	blobs, _ := filepath.Glob(filepath.Join(d.dir, "data", "content", "blobs", "sha256", "*"))
	var layer string
	var size int64
	for _, b := range blobs {
		if fi, err := os.Stat(b); err == nil && fi.Size() > size {
			layer, size = b, fi.Size()
		}
	}
	if layer == "" {
		t.Fatalf("no blobs under %s/data/content", d.dir)
	}
	if err := os.Chmod(layer, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layer, []byte("not the layer"), 0o644); err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + filepath.Base(layer)
	r := d.Berth("system", "fsck")
	if r.Code != 1 || !strings.Contains(r.Stdout, "problem: blob "+digest+" is corrupt") || !strings.Contains(r.Stderr, "problems remain") {
		t.Fatalf("berth system fsck with a corrupt blob: got %s", r)
	}
	r = d.Berth("system", "fsck", "--repair")
	if r.Code != 1 || !strings.Contains(r.Stdout, "repaired: removed corrupt blob "+digest) ||
		!strings.Contains(r.Stdout, "remaining: image "+id+": blob "+digest+" is missing") {
		t.Fatalf("berth system fsck --repair: got %s", r)
	}
	if _, err := os.Stat(layer); !os.IsNotExist(err) {
		t.Errorf("the corrupt blob is still there after --repair: %v", err)
	}
	d.OK("rmi", "fsck:v1")
	if out := d.OK("system", "fsck", "--repair"); !strings.Contains(out, "the store is consistent") {
		t.Errorf("berth system fsck after rmi: got\n%s", out)
	}
}
