package reaper

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// initBinary is the program under test: $BERTH_INIT when set, else a
// build of reaper/berth-init made by TestMain as the Makefile builds it.
var initBinary string

// helperEnv makes the test binary the command berth-init runs: the
// variable names what it does (see helper).
const helperEnv = "BERTH_INIT_TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helper(h))
	}
	initBinary = os.Getenv("BERTH_INIT")
	var tmp string
	if initBinary == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "berth-init-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if initBinary, err = build(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(tmp)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// build compiles berth-init into dir: musl when it is installed, as the
// Makefile does, with warnings as errors.
func build(dir string) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	srcs, _ := filepath.Glob(filepath.Join(filepath.Dir(self), "berth-init", "*.c"))
	out := filepath.Join(dir, "berth-init")
	cc := "gcc"
	if p, err := exec.LookPath("musl-gcc"); err == nil {
		cc = p
	}
	args := append([]string{"-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o", out}, srcs...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build berth-init: %v\n%s", err, b)
	}
	return out, nil
}

// forwarded are the signals the tests send to berth-init and expect its
// child to get. SIGURG is left out: the Go runtime of the helper uses it.
var forwarded = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
	syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGCONT, syscall.SIGTSTP,
	syscall.SIGTTIN, syscall.SIGTTOU,
	syscall.Signal(40), // a real-time signal
	syscall.SIGTERM,
}

// helper is the test binary run by berth-init. Modes:
//
//	signals  print "ready PID PGID", then the number of each signal
//	         received, one a line; exit 7 after SIGTERM
//	tty      print "pgrp PGRP fg FOREGROUND-PGRP-OF-STDIN"
func helper(mode string) int {
	switch mode {
	case "signals":
		ch := make(chan os.Signal, 16)
		sigs := make([]os.Signal, len(forwarded))
		for i, s := range forwarded {
			sigs[i] = s
		}
		signal.Notify(ch, sigs...)
		fmt.Printf("ready %d %d\n", os.Getpid(), syscall.Getpgrp())
		for s := range ch {
			fmt.Println(int(s.(syscall.Signal)))
			if s == syscall.SIGTERM {
				return 7
			}
		}
	case "tty":
		fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
		if err != nil {
			fmt.Println("tcgetpgrp:", err)
			return 1
		}
		fmt.Printf("pgrp %d fg %d\n", syscall.Getpgrp(), fg)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// mode is how a test runs berth-init: as a child subreaper of the test,
// or as PID 1 of a PID namespace of its own (root only).
type mode struct {
	name  string
	flags uintptr
}

var modes = []mode{{"subreaper", 0}, {"pid1", syscall.CLONE_NEWPID}}

// proc is a berth-init started by a test, ended (by its PID) at cleanup.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *bufio.Reader
	stdin  io.WriteCloser
	stderr *os.File // a file, not a pipe: Wait must not wait for orphans holding it
	done   chan struct{}
	status int
}

// start runs berth-init with args in mode m, its stdout piped to the test.
func start(t *testing.T, m mode, env []string, args ...string) *proc {
	t.Helper()
	if m.flags != 0 {
		testutil.RequireRoot(t) // for the PID namespace
	}
	p := &proc{t: t, cmd: exec.Command(initBinary, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	var err error
	if p.stderr, err = os.CreateTemp(t.TempDir(), "stderr"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stderr.Close() })
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: m.flags, Pdeathsig: syscall.SIGKILL}
	// A pipe of our own rather than StdoutPipe, which Wait closes
	// (in another goroutine here) before the test has read it all.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	p.cmd.Stdout = w
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(r)
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.status = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			// A failed test: end what berth-init runs, then berth-init.
			killTree(p.cmd.Process.Pid)
			<-p.done
		}
	})
	return p
}

// killTree sends SIGKILL to pid's descendants and then to pid.
func killTree(pid int) {
	for _, c := range children(pid) {
		killTree(c.pid)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// line reads one line of the child's output, failing after 10 s.
func (p *proc) line() string {
	p.t.Helper()
	ch := make(chan string, 1)
	go func() {
		s, _ := p.out.ReadString('\n')
		ch <- s
	}()
	select {
	case s := <-ch:
		return strings.TrimSuffix(s, "\n")
	case <-time.After(10 * time.Second):
		p.t.Fatal("no output from berth-init's child in 10 s")
		return ""
	}
}

// errors returns what berth-init and its child wrote to stderr.
func (p *proc) errors() string {
	p.t.Helper()
	b, err := os.ReadFile(p.stderr.Name())
	if err != nil {
		p.t.Fatal(err)
	}
	return string(b)
}

// wait returns berth-init's exit code, failing after 10 s.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.status
	case <-time.After(10 * time.Second):
		p.t.Fatal("berth-init did not exit in 10 s")
		return -1
	}
}

// task is a process as /proc/PID/stat shows it.
type task struct {
	pid, ppid, pgrp int
	comm            string
	state           byte
}

func readTask(pid int) (task, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return task{}, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	f := strings.Fields(s[end+1:])
	if open < 0 || len(f) < 3 {
		return task{}, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	return task{pid: pid, ppid: ppid, pgrp: pgrp, comm: s[open+1 : end], state: f[0][0]}, nil
}

// children lists the processes whose parent is pid (this kernel has no
// /proc/PID/task/TID/children).
func children(pid int) []task {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []task
	for _, d := range dirs {
		n, _ := strconv.Atoi(filepath.Base(d))
		if t, err := readTask(n); err == nil && t.ppid == pid {
			out = append(out, t)
		}
	}
	return out
}
