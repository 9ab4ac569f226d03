package mount

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"golang.org/x/sys/unix"
)

// tempDir is a t.TempDir whose cleanup first takes off whatever a failed
// test left mounted below it, then fails the test if anything remains.
func tempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		mps, err := Under(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(mps) - 1; i >= 0; i-- {
			t.Errorf("left mounted: %s", mps[i])
			if err := UnmountAll(mps[i]); err != nil {
				t.Error(err)
			}
		}
	})
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBindReadOnly(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempDir(t)
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	mkdirs(t, src, dst, filepath.Join(src, "sub"))
	writeFile(t, filepath.Join(src, "f"), "hello")

	// A submount under src, so rbind+ro must cover it too.
	if err := All([]Mount{{Type: "tmpfs", Source: "tmpfs"}}, filepath.Join(src, "sub")); err != nil {
		t.Fatal(err)
	}
	defer UnmountAll(filepath.Join(src, "sub"))

	if err := All([]Mount{{Type: "bind", Source: src, Options: []string{"rbind", "ro"}}}, dst); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dst, "f")); got != "hello" {
		t.Errorf("read through bind: got %q, want %q", got, "hello")
	}
	for _, p := range []string{filepath.Join(dst, "new"), filepath.Join(dst, "sub", "new")} {
		if err := os.WriteFile(p, nil, 0o644); !errors.Is(err, unix.EROFS) {
			t.Errorf("write %s: got %v, want EROFS", p, err)
		}
	}
	writeFile(t, filepath.Join(src, "still-writable"), "x")
	if err := UnmountAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(filepath.Join(src, "sub")); err != nil {
		t.Fatal(err)
	}
}

func TestUnmountErrorsNameTarget(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempDir(t)
	err := Unmount(dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("Unmount of a plain dir: got %v, want EINVAL naming %s", err, dir)
	}
	if err := UnmountAll(dir); err != nil {
		t.Errorf("UnmountAll of a plain dir: got %v, want nil", err)
	}
	if err := UnmountAll(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("UnmountAll of a missing dir: got %v, want nil", err)
	}
}

func TestAllUndoesOnFailure(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempDir(t)
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	mkdirs(t, src, dst)
	err := All([]Mount{
		{Type: "bind", Source: src, Options: []string{"rbind"}},
		{Type: "bind", Source: filepath.Join(dir, "missing"), Options: []string{"rbind"}},
	}, dst)
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), dst) {
		t.Fatalf("got %v, want an error naming the missing source and %s", err, dst)
	}
	if mps, _ := Under(dst); len(mps) != 0 {
		t.Errorf("after a failed All: got mounts %q, want none", mps)
	}
}
