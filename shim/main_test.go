package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// shimBinary and runtimeBinary are the programs under test: $BERTH_SHIM
// and $BERTH_RUNTIME when set (make test sets the runtime), else builds
// of this tree made by TestMain (as root only: only root tests use them).
var shimBinary, runtimeBinary string

// starterEnv makes the test binary a starter: it starts a shim with the
// Options in the variable, starts the container, says "started" and
// waits to be killed (TestSurvivesStarter).
const starterEnv = "BERTH_SHIM_TEST_STARTER"

func TestMain(m *testing.M) {
	if o := os.Getenv(starterEnv); o != "" {
		os.Exit(starter(o))
	}
	shimBinary, runtimeBinary = os.Getenv("BERTH_SHIM"), os.Getenv("BERTH_RUNTIME")
	var tmp string
	if os.Geteuid() == 0 && (shimBinary == "" || runtimeBinary == "") {
		var err error
		if tmp, err = os.MkdirTemp("", "berth-shim-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := buildPrograms(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(tmp)
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

func buildPrograms(tmp string) error {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	if shimBinary == "" {
		shimBinary = filepath.Join(tmp, "berth-shim")
		srcs, _ := filepath.Glob(filepath.Join(dir, "berth-shim", "*.c"))
		args := append([]string{"-static", "-Os", "-Wall", "-Wextra", "-Werror", "-o", shimBinary}, srcs...)
		cc := "gcc" // as the Makefile: musl when it is installed
		if p, err := exec.LookPath("musl-gcc"); err == nil {
			cc = p
		}
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("build berth-shim: %v\n%s", err, out)
		}
	}
	if runtimeBinary == "" {
		runtimeBinary = filepath.Join(tmp, "berth-runtime")
		cmd := exec.Command("go", "build", "-o", runtimeBinary, "./cmd/berth-runtime")
		cmd.Dir = filepath.Join(dir, "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build berth-runtime: %v\n%s", err, out)
		}
	}
	return nil
}

// starter is the re-executed test binary of TestSurvivesStarter.
func starter(opts string) int {
	var o Options
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	s, err := Start(ctx, o)
	if err == nil {
		err = s.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("started")
	time.Sleep(time.Hour)
	return 0
}

var seq atomic.Int64

// env is one test's container: bundle, options, and checks at cleanup
// that nothing is left behind.
type env struct {
	t      *testing.T
	bundle *testbundle.Bundle
	opts   Options
}

// newEnv prepares a container running args, with short paths for the
// sockets (t.TempDir paths can exceed a socket path's 107 bytes).
func newEnv(t *testing.T, args ...string) *env {
	t.Helper()
	testutil.RequireRoot(t)
	testbundle.Busybox(t)
	state, err := os.MkdirTemp("", "bshim-")
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("", "bshim-rt-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, bundle: testbundle.New(t, args...)}
	e.opts = Options{
		Binary: shimBinary, Runtime: runtimeBinary, RuntimeRoot: root,
		ID:       fmt.Sprintf("shim-%d-%d", os.Getpid(), seq.Add(1)),
		Bundle:   e.bundle.Dir,
		StateDir: filepath.Join(state, "c"),
		LogPath:  filepath.Join(t.TempDir(), "container-json.log"),
	}
	t.Cleanup(func() {
		// Whatever the test did, end the container and its shim.
		if s, err := Open(e.opts.StateDir); err == nil && s.Pid() > 0 {
			s.Kill(context.Background(), syscall.SIGKILL, true)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s.Wait(ctx)
			cancel()
		}
		exec.Command(runtimeBinary, "--root", root, "delete", "--force", e.opts.ID).Run()
		os.RemoveAll(state)
		os.RemoveAll(root)
	})
	return e
}

func (e *env) start(ctx context.Context) *Shim {
	e.t.Helper()
	e.bundle.Save(e.t)
	s, err := Start(ctx, e.opts)
	if err != nil {
		e.t.Fatalf("shim.Start: %v", err)
	}
	return s
}

// startAttached starts the shim, attaches (the connection closes at the
// test's end), then starts the container, so that no output is missed.
func (e *env) startAttached(ctx context.Context) (*Shim, *net.UnixConn) {
	e.t.Helper()
	s := e.start(ctx)
	c, err := s.Attach(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := s.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	return s, c
}

// run starts the shim and the container and waits for the exit.
func (e *env) run() ExitStatus {
	e.t.Helper()
	ctx := testCtx(e.t)
	s := e.start(ctx)
	if err := s.Start(ctx); err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	return e.wait(s)
}

func (e *env) wait(s *Shim) ExitStatus {
	e.t.Helper()
	st, err := s.Wait(testCtx(e.t))
	if err != nil {
		e.t.Fatalf("Wait: %v", err)
	}
	e.checkClean()
	return st
}

// checkClean checks what an exited container leaves: exit.json alone in
// the state directory, no runtime state, no process naming the state dir.
func (e *env) checkClean() {
	e.t.Helper()
	ents, _ := os.ReadDir(e.opts.StateDir)
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	if !slices.Equal(names, []string{exitFile}) {
		e.t.Errorf("state dir holds %v, want [%s]", names, exitFile)
	}
	if _, err := os.Stat(filepath.Join(e.opts.RuntimeRoot, e.opts.ID)); err == nil {
		e.t.Errorf("runtime state of %s is still there", e.opts.ID)
	}
	if pids := procsMentioning(e.opts.StateDir); len(pids) > 0 {
		e.t.Errorf("processes %v still mention %s", pids, e.opts.StateDir)
	}
}

// procsMentioning lists live processes whose command line holds s.
func procsMentioning(s string) []string {
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(s)) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// record is one line of the json-file log.
type record struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func readLog(t *testing.T, path string) []record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}
