package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyCommit: berth cp both ways with docker's naming rules (a new
// name, into a directory, "dir/." contents, -L), and berth commit with
// -a, -m and -c, whose image runs with the container's changes.
func TestCopyCommit(t *testing.T) {
	d := containerDaemon(t)
	host := t.TempDir()
	d.OK("run", "-d", "--name", "box", "bb", "sh", "-c", "mkdir -p /src/sub && echo a > /src/sub/a && echo h > /src/.hidden && ln -sf /src/sub /link && sleep 1000")
	for range 100 {
		if d.Berth("exec", "box", "test", "-L", "/link").Code == 0 {
			break
		}
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(host, p))
		if err != nil {
			t.Errorf("read %s: %v", p, err)
		}
		return string(b)
	}
	d.OK("cp", "box:/src", filepath.Join(host, "renamed"))
	if got := read("renamed/sub/a"); got != "a\n" {
		t.Errorf("cp of a directory to a new name: got %q", got)
	}
	d.OK("cp", "box:/src", host)
	if got := read("src/sub/a"); got != "a\n" {
		t.Errorf("cp of a directory into a directory: got %q", got)
	}
	os.Mkdir(filepath.Join(host, "contents"), 0o755)
	d.OK("cp", "box:/src/.", filepath.Join(host, "contents"))
	if got := read("contents/sub/a") + read("contents/.hidden"); got != "a\nh\n" {
		t.Errorf("cp of dir/. : got %q", got)
	}
	d.OK("cp", "-L", "box:/link", host)
	if got := read("link/a"); got != "a\n" {
		t.Errorf("cp -L of a link to a directory: got %q, want the directory under the link's name", got)
	}

	d.OK("cp", filepath.Join(host, "src")+"/.", "box:/tmp/")
	d.OK("cp", filepath.Join(host, "src"), "box:/tmp/copy")
	d.OK("cp", filepath.Join(host, "src/sub/a"), "box:/link")
	if out := d.OK("exec", "box", "sh", "-c", "cat /tmp/sub/a /tmp/copy/sub/a /src/sub/a"); out != "a\na\na\n" {
		t.Errorf("cp into the container: got %q", out)
	}

	id := strings.TrimSpace(d.OK("commit", "-a", "me", "-m", "msg", "-c", "ENV ADDED=yes", "box", "snap:1"))
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("berth commit: got %q, want an image ID", id)
	}
	if out := d.OK("run", "--rm", "snap:1", "sh", "-c", "cat /tmp/copy/sub/a; echo $ADDED"); out != "a\nyes\n" {
		t.Errorf("run of the committed image: got %q", out)
	}
}
