package testsuite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// whiteout writes an overlay whiteout for path: a 0:0 character device.
func whiteout(t *testing.T, path string) {
	t.Helper()
	if err := unix.Mknod(path, unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
}

// opaque makes dir hide whatever lower layers have under it.
func opaque(t *testing.T, dir string) {
	t.Helper()
	mkdir(t, dir)
	if err := unix.Setxattr(dir, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
}

// expect checks the files below dir: a value of "" wants path absent, any
// other value wants a regular file with that content.
func expect(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case content == "" && !errors.Is(err, os.ErrNotExist):
			t.Errorf("%s: got content %q (err %v), want it absent", name, b, err)
		case content != "" && err != nil:
			t.Errorf("%s: %v, want content %q", name, err, content)
		case content != "" && string(b) != content:
			t.Errorf("%s: got %q, want %q", name, b, content)
		}
	}
}

func expectReadOnly(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("write into a view: got %v, want EROFS", err)
	}
}
