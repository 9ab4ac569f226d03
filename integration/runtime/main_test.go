// Package runtime_test drives the berth-runtime binary as engines do, and
// checks from inside the containers that the configuration took effect.
package runtime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// binary is the berth-runtime under test: $BERTH_RUNTIME (make test sets
// it), else a build of this tree made by TestMain.
var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("BERTH_RUNTIME")
	var tmp string
	if binary == "" && os.Geteuid() == 0 {
		var err error
		tmp, err = os.MkdirTemp("", "berth-runtime-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary = filepath.Join(tmp, "berth-runtime")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/berth-runtime")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build berth-runtime: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	if obs, err := testbundle.Observer(nil); err == nil && obs != "" {
		os.RemoveAll(filepath.Dir(obs))
	}
	os.Exit(code)
}

// rt is one test's runtime: its own --root, cleaned up after the test
// (every container force-deleted, so no process, cgroup or mount is left).
type rt struct {
	t    *testing.T
	root string
}

var seq atomic.Int64

func newRT(t *testing.T) *rt {
	t.Helper()
	testutil.RequireRoot(t)
	testbundle.Busybox(t)
	r := &rt{t: t, root: t.TempDir()}
	t.Cleanup(func() {
		ents, _ := os.ReadDir(r.root)
		for _, e := range ents {
			exec.Command(binary, "--root", r.root, "delete", "--force", e.Name()).Run()
		}
	})
	return r
}

// id returns a container id unique in this test binary.
func (r *rt) id() string {
	return fmt.Sprintf("t%d-%d", os.Getpid(), seq.Add(1))
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs berth-runtime with args and stdin closed.
func (r *rt) run(args ...string) result {
	r.t.Helper()
	return r.runIn(nil, args...)
}

func (r *rt) runIn(stdin []byte, args ...string) result {
	r.t.Helper()
	cmd := exec.Command(binary, append([]string{"--root", r.root}, args...)...)
	// Files, not pipes: a created container's init keeps the runtime's
	// stdio, and a pipe would not reach EOF while it lives.
	out, errf := tempFile(r.t), tempFile(r.t)
	cmd.Stdout, cmd.Stderr = out, errf
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start berth-runtime: %v", err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	cmd.Wait()
	if !timer.Stop() {
		r.t.Fatalf("berth-runtime %v: timed out; stderr: %s", args, readBack(errf))
	}
	return result{readBack(out), readBack(errf), cmd.ProcessState.ExitCode()}
}

func tempFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readBack(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}

// ok runs berth-runtime and fails the test unless it exits 0.
func (r *rt) ok(args ...string) string {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("berth-runtime %s: exit %d, stderr: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// state returns the container's OCI state.
func (r *rt) state(id string) map[string]any {
	r.t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(r.ok("state", id)), &st); err != nil {
		r.t.Fatalf("decode state of %s: %v", id, err)
	}
	return st
}

// observe runs the observer's info in b and decodes it.
func (r *rt) observe(b *testbundle.Bundle, extra ...string) observed {
	r.t.Helper()
	b.Spec.Process.Args = append([]string{"/observer", "info"}, extra...)
	b.Save(r.t)
	out := r.ok("run", "--bundle", b.Dir, r.id())
	var o observed
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		r.t.Fatalf("decode observer output %q: %v", out, err)
	}
	return o
}

type observed struct {
	Pid, Ppid, UID, GID, EUID, EGID int
	Groups                          []int
	Cwd, CwdErr                     string
	Hostname, Domainname            string
	Status                          map[string]string
	FDs                             map[string]string
	UIDMap, GIDMap                  string
	Cgroup                          string
	Mountinfo                       string
	Env                             []string
	Rlimits                         map[string][2]uint64
	Umask                           int
	OOMScoreAdj                     string
	Sysctls                         map[string]string
}
