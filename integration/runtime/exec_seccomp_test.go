package runtime_test

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
)

// TestExecSeccomp: an exec runs under the container's seccomp profile,
// the first one, which compiles it and keeps the program beside the
// state, and the later ones, which load the kept program.
func TestExecSeccomp(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "sleep")
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{errnoRule(uint(unix.EPERM), "mkdir", "mkdirat")}}
	c := r.startLive(b)
	for i, kept := range []bool{false, true, true} {
		_, err := os.Stat(filepath.Join(r.root, c.id, "exec-seccomp.bpf"))
		if got := err == nil; got != kept {
			t.Fatalf("exec %d: got program kept %v (%v), want %v", i, got, err, kept)
		}
		res := r.run("exec", c.id, "/observer", "mkdir", "/tmp/blocked")
		if want := "error: mkdir /tmp/blocked: operation not permitted\n"; res.stdout != want {
			t.Errorf("exec %d: got %q (stderr %q), want %q", i, res.stdout, res.stderr, want)
		}
		if res := r.run("exec", c.id, "/observer", "write", "/tmp/allowed"); res.stdout != "ok\n" {
			t.Errorf("exec %d of an allowed call: got %q (stderr %q), want ok", i, res.stdout, res.stderr)
		}
	}
	c.deleteAndCheck("--force")
}
