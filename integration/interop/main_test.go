// Package interop_test runs berth-runtime under real engines, podman and
// containerd, the way they run runc, and checks from inside the containers
// that what the engine asked for took effect.
//
// The tests need root and the peers (podman, conmon, containerd, ctr,
// containerd-shim-runc-v2): without them they skip, or fail under
// BERTH_CI=1. They leave nothing behind: the podman image and containers,
// the private containerd, its shims, mounts and directories are removed in
// t.Cleanup.
package interop_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testbundle"
)

// binary is the berth-runtime under test: $BERTH_RUNTIME (make test sets
// it), else a build of this tree made by TestMain.
var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("BERTH_RUNTIME")
	var tmp string
	if binary == "" && os.Geteuid() == 0 {
		var err error
		tmp, err = os.MkdirTemp("", "berth-interop-")
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
	// Observer builds on first use: without root no test built it, and
	// asking would build it now. A failed build leaves its directory too.
	if os.Geteuid() == 0 {
		if obs, _ := testbundle.Observer(nil); obs != "" {
			os.RemoveAll(filepath.Dir(obs))
		}
	}
	os.Exit(code)
}

var seq atomic.Int64

// unique returns a name unique to this test binary, usable as an image
// name, container name or id.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), seq.Add(1))
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// run runs a program with stdin closed and waits for it, at most a minute.
// Output goes to files, not pipes: podman's conmon and containerd's shims
// are daemons that may keep inherited descriptors open.
func run(t *testing.T, name string, args ...string) result {
	t.Helper()
	return runIn(t, nil, name, args...)
}

// runIn is run with stdin read from in (closed when nil).
func runIn(t *testing.T, in io.Reader, name string, args ...string) result {
	t.Helper()
	cmd := command(t, name, args...)
	out, errf := tempFile(t), tempFile(t)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, errf
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	cmd.Wait()
	if !timer.Stop() {
		t.Fatalf("%s %s: timed out; stderr: %s", name, strings.Join(args, " "), readBack(errf))
	}
	return result{readBack(out), readBack(errf), cmd.ProcessState.ExitCode()}
}

// command prepares a program to run in a directory of its own: conmon
// writes files (an "oom" marker) to the directory it inherits.
func command(t *testing.T, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = t.TempDir()
	return cmd
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

// runtimeState returns berth-runtime's state of a container (its --root
// given in args, if any), or the empty status if the runtime knows none.
func runtimeState(t *testing.T, id string, args ...string) (status string, pid int) {
	t.Helper()
	res := run(t, binary, append(args, "state", id)...)
	if res.code != 0 {
		if !strings.Contains(res.stderr, "does not exist") {
			t.Errorf("berth-runtime state %s: %s, want a state or \"does not exist\"", id, res)
		}
		return "", 0
	}
	var st struct {
		Status string
		Pid    int
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("decode berth-runtime state of %s %q: %v", id, res.stdout, err)
	}
	return st.Status, st.Pid
}

// runtimeLog returns berth-runtime's log file, for failure messages.
func runtimeLog(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no berth-runtime log: " + err.Error() + ")"
	}
	return "berth-runtime log:\n" + string(data)
}

// waitFor polls cond until it holds, for at most ten seconds.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
