package cli_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVolumeExportImport: berth volume create, ls, inspect, rm and
// prune; export to a file and to stdout, import into a new volume and
// over one's content, a corrupt archive refused with the failing file
// named and the volume left as it was, a volume in use refused.
func TestVolumeExportImport(t *testing.T) {
	d := containerDaemon(t)
	dir := t.TempDir()
	d.OK("volume", "create", "--label", "k=v", "src")
	d.OK("run", "--rm", "-v", "src:/d", "bb", "sh", "-c", "mkdir /d/sub && echo one > /d/a && echo two > /d/sub/b && chmod 600 /d/sub/b && ln -s a /d/l")
	if ls := d.OK("volume", "ls"); !regexp.MustCompile(`(?m)^DRIVER\s+VOLUME NAME$`).MatchString(ls) || !regexp.MustCompile(`(?m)^local\s+src$`).MatchString(ls) {
		t.Errorf("volume ls: got\n%s", ls)
	}
	if got := strings.TrimSpace(d.OK("volume", "inspect", "-f", "{{.Name}} {{.Labels.k}}", "src")); got != "src v" {
		t.Errorf("volume inspect: got %q", got)
	}

	file := filepath.Join(dir, "src.tar")
	d.OK("volume", "export", "src", "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("export is not a tar: %v", err)
		}
		names = append(names, h.Name)
	}
	if len(names) == 0 || names[len(names)-1] != "MANIFEST.json" || !strings.Contains(strings.Join(names, " "), "data/sub/b") {
		t.Errorf("export entries: got %v", names)
	}
	if out := d.OK("volume", "export", "src"); !strings.Contains(out, "MANIFEST.json") {
		t.Errorf("export to stdout: got %d bytes without a manifest", len(out))
	}

	check := func(vol, want string) {
		t.Helper()
		got := d.OK("run", "--rm", "-v", vol+":/d", "bb", "sh", "-c", "cat /d/a /d/sub/b; stat -c %a /d/sub/b; readlink /d/l")
		if got != want {
			t.Errorf("volume %s: got %q, want %q", vol, got, want)
		}
	}
	d.OK("volume", "import", "copy", file)
	check("copy", "one\ntwo\n600\na\n")

	// Corrupt: one byte of sub/b's content changed.
	bad := bytes.Clone(data)
	i := bytes.Index(bad, []byte("two\n"))
	bad[i] = 'T'
	badFile := filepath.Join(dir, "bad.tar")
	os.WriteFile(badFile, bad, 0o644)
	d.OK("run", "--rm", "-v", "copy:/d", "bb", "sh", "-c", "echo changed > /d/a")
	msg := d.Fail(1, "volume", "import", "copy", badFile)
	if !strings.Contains(msg, `file "sub/b": checksum mismatch`) {
		t.Errorf("import of a corrupt archive: got %q, want the failing file named", msg)
	}
	check("copy", "changed\ntwo\n600\na\n")
	// Truncated, on stdin.
	if r := d.BerthIn(bytes.NewReader(data[:len(data)/2]), "volume", "import", "copy", "-"); r.Code != 1 || !strings.Contains(r.Stderr, "Error response from daemon") {
		t.Errorf("import of a truncated archive: got %s", r)
	}
	check("copy", "changed\ntwo\n600\na\n")
	// Over the changed content, a good archive wins.
	d.OK("volume", "import", "copy", file)
	check("copy", "one\ntwo\n600\na\n")

	d.OK("create", "--name", "user", "-v", "copy:/d", "bb", "true")
	if msg := d.Fail(1, "volume", "import", "copy", file); !strings.Contains(msg, "volume is in use") {
		t.Errorf("import into a volume in use: got %q", msg)
	}
	if msg := d.Fail(1, "volume", "rm", "copy"); !strings.Contains(msg, "volume is in use") {
		t.Errorf("rm of a volume in use: got %q", msg)
	}
	d.OK("rm", "user")
	if msg := d.Fail(1, "volume", "export", "nosuch", "-o", filepath.Join(dir, "x.tar")); !strings.Contains(msg, "no such volume") {
		t.Errorf("export of a missing volume: got %q", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.tar")); !os.IsNotExist(err) {
		t.Errorf("a failed export left its file: %v", err)
	}
	if got := strings.TrimSpace(d.OK("volume", "rm", "copy")); got != "copy" {
		t.Errorf("volume rm: got %q", got)
	}
	out := d.OK("volume", "prune", "-a", "-f")
	if !strings.Contains(out, "Deleted Volumes:\nsrc\n") || !strings.Contains(out, "Total reclaimed space:") {
		t.Errorf("volume prune -a: got %q", out)
	}
}
