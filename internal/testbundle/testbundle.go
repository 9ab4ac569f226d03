// Package testbundle builds OCI bundles for tests: a rootfs made from
// Debian's busybox-static plus the observer program (built once per test
// binary), and a config.json from berth-runtime's default spec, adjusted
// for non-interactive tests.
package testbundle

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/runtime/spec"
)

// Bundle is a bundle directory with its rootfs and configuration.
type Bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
}

// Applets are the busybox commands linked into the rootfs.
var Applets = []string{"sh", "ls", "cat", "echo", "sleep", "true", "false", "id", "hostname",
	"mount", "grep", "ps", "env", "pwd", "touch", "mkdir", "rm", "ln", "readlink", "wc", "head",
	"kill", "test", "stat", "uname", "dd", "yes", "seq", "awk", "tr"}

// Busybox returns the path of the static busybox on this host.
func Busybox(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	testutil.Skip(t, "test needs busybox-static (apt-get install busybox-static)")
	return ""
}

// New makes a bundle in a fresh temp dir whose process runs args.
func New(t testing.TB, args ...string) *Bundle {
	t.Helper()
	dir := t.TempDir()
	b := &Bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs")}
	if err := MakeRootfs(t, b.Rootfs); err != nil {
		t.Fatal(err)
	}
	s := spec.Default()
	s.Root.Path = "rootfs"
	s.Root.Readonly = false
	s.Process.Terminal = false
	s.Process.Args = args
	s.Hostname = "berth-test"
	b.Spec = s
	b.Save(t)
	return b
}

// Save writes config.json.
func (b *Bundle) Save(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// MakeRootfs fills dir with a busybox rootfs and the observer at /observer.
func MakeRootfs(t testing.TB, dir string) error {
	bb := Busybox(t)
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root", "var", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	// A copy, not a link: a container may write to its own files.
	if err := copyFile(bb, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range Applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ntester:x:1000:1000:tester:/home/tester:/bin/sh\n",
		"etc/group":  "root:x:0:\ntty:x:5:\nnogroup:x:65534:\ntester:x:1000:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	obs, err := Observer(t)
	if err != nil {
		return err
	}
	return copyFile(obs, filepath.Join(dir, "observer"), 0o755)
}

var (
	observerOnce sync.Once
	observerPath string
	observerErr  error
)

// Observer builds the static observer program once per test binary.
func Observer(t testing.TB) (string, error) {
	observerOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "observer")
		out, err := os.MkdirTemp("", "berth-observer-")
		if err != nil {
			observerErr = err
			return
		}
		observerPath = filepath.Join(out, "observer")
		cmd := exec.Command("go", "build", "-o", observerPath, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			observerErr = fmt.Errorf("build observer: %v: %s", err, msg)
		}
	})
	return observerPath, observerErr
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
