package seccomp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// childEnv names the scenario a re-executed test binary runs instead of
// the tests: a filter stays on a thread for good, so each scenario gets its
// own process.
const childEnv = "BERTH_SECCOMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChild(name))
	}
	os.Exit(m.Run())
}

// scenario returns the child scenario called name. Each runs with
// no_new_privs set, on a locked thread, loads a filter, makes syscalls and
// reports "key=value" lines.
func scenario(name string) func(report func(string, any)) error {
	if path, ok := strings.CutPrefix(name, "containers:"); ok {
		return func(report func(string, any)) error { return containersScenario(report, path) }
	}
	switch name {
	case "errno":
		return errnoScenario
	case "kill":
		return killScenario
	case "notify":
		return notifyScenario
	case "allowlist":
		return allowlistScenario
	case "tsync":
		return func(report func(string, any)) error { return threadScenario(report, true) }
	case "thread":
		return func(report func(string, any)) error { return threadScenario(report, false) }
	}
	return func(func(string, any)) error { return fmt.Errorf("no scenario %q", name) }
}

func runChild(name string) int {
	runtime.LockOSThread() // never unlocked: the filter binds this thread
	report := func(k string, v any) { fmt.Printf("%s=%v\n", k, v) }
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		report("error", err)
		return 1
	}
	if err := scenario(name)(report); err != nil {
		report("error", err)
		return 1
	}
	return 0
}

// errnoName renders a raw syscall's result.
func errnoName(r uintptr, e syscall.Errno) string {
	if e != 0 {
		return unix.ErrnoName(e)
	}
	return fmt.Sprint(r)
}

func errnoScenario(report func(string, any)) error {
	fd, err := Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.ENOSYS))},
			{Names: []string{"uname"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EDOM)),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}}},
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EXDEV)),
				Args: []specs.LinuxSeccompArg{{Index: 2, Value: 0xff00000000000000, ValueTwo: 0x4200000000000000, Op: specs.OpMaskedEqual}}},
			// The default action: dropped, so it does not hide the rule above.
			{Names: []string{"getpid"}, Action: specs.ActAllow},
			// The first unconditional rule decides.
			{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.ENOTTY))},
			{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EXDEV))},
		},
	})
	if err != nil {
		return err
	}
	report("fd", fd)
	dir := []byte("/nonexistent-berth-seccomp-test/x\x00")
	_, _, e := unix.Syscall(unix.SYS_MKDIR, uintptr(unsafe.Pointer(&dir[0])), 0o755, 0)
	report("mkdir", errnoName(0, e))
	e = unix.Mkdirat(unix.AT_FDCWD, string(dir[:len(dir)-1]), 0o755).(syscall.Errno)
	report("mkdirat", errnoName(0, e))
	r, _, e := unix.Syscall(unix.SYS_UNAME, 0, 0, 0)
	report("uname-null", errnoName(r, e))
	var uts unix.Utsname
	r, _, e = unix.Syscall(unix.SYS_UNAME, uintptr(unsafe.Pointer(&uts)), 0, 0)
	report("uname-buf", errnoName(r, e))
	r, _, e = unix.Syscall(unix.SYS_GETPID, 0, 0, 0x42000000_00000000)
	report("getpid-high", errnoName(r, e))
	r, _, e = unix.Syscall(unix.SYS_GETPID, 0, 0, 0x00420000_00000000)
	report("getpid-other", errnoName(r, e) == fmt.Sprint(os.Getpid()))
	_, _, e = unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	report("getppid", errnoName(0, e))
	return nil
}

// allowlistScenario loads the Docker-shaped profile: the kernel must take
// the full three-ABI program, and the Go runtime must keep working under it.
func allowlistScenario(report func(string, any)) error {
	b, err := os.ReadFile("testdata/allowlist.json")
	if err != nil {
		return err
	}
	var cfg specs.LinuxSeccomp
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	if _, err := Load(&cfg); err != nil {
		return err
	}
	err = unix.Mount("none", "/nonexistent-berth-seccomp-test", "tmpfs", 0, "")
	report("mount", errnoName(0, err.(syscall.Errno)))
	_, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0) // query: allowed
	report("personality-query", errnoName(0, e))
	_, _, e = unix.Syscall(unix.SYS_PERSONALITY, 0x0400000, 0, 0) // ADDR_COMPAT_LAYOUT: denied
	report("personality-set", errnoName(0, e))
	done := make(chan bool)
	go func() { done <- true }() // the scheduler, futexes, new threads still work
	report("goroutine", <-done)
	return nil
}

func killScenario(report func(string, any)) error {
	if _, err := Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKillProcess}},
	}); err != nil {
		return err
	}
	report("loaded", true)
	unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	report("survived", true)
	return nil
}

// seccompNotif and seccompNotifResp are struct seccomp_notif and
// seccomp_notif_resp of <linux/seccomp.h>.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	data  [64]byte
}

type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// notifyScenario answers its own notification from another thread: the
// locked thread's getppid waits until the agent goroutine replies EXDEV.
func notifyScenario(report func(string, any)) error {
	fd, err := Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}},
	})
	if err != nil {
		return err
	}
	report("fd-valid", fd >= 0)
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	report("cloexec", err == nil && flags&unix.FD_CLOEXEC != 0)
	agent := make(chan string, 1)
	go func() {
		var req seccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			agent <- "recv " + unix.ErrnoName(e)
			return
		}
		nr := *(*uint32)(unsafe.Pointer(&req.data[0]))
		resp := seccompNotifResp{id: req.id, error: -int32(unix.EXDEV)}
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp))); e != 0 {
			agent <- "send " + unix.ErrnoName(e)
			return
		}
		agent <- fmt.Sprint("nr ", nr)
	}()
	r, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	report("getppid", errnoName(r, e))
	report("agent", <-agent)
	return nil
}

// threadScenario checks which threads the filter binds: a thread that
// existed before Load gets it only with TSYNC.
func threadScenario(report func(string, any), tsync bool) error {
	ready, do, result := make(chan struct{}), make(chan struct{}), make(chan string)
	go func() {
		runtime.LockOSThread() // a thread of its own, made before Load
		close(ready)
		<-do
		_, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		result <- errnoName(0, e)
	}()
	<-ready
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EXDEV))}},
	}
	if tsync {
		cfg.Flags = []specs.LinuxSeccompFlag{flagTSYNC}
	}
	if _, err := Load(cfg); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	report("this-thread", errnoName(0, e))
	close(do)
	report("other-thread", <-result)
	return nil
}

// runScenario re-executes the test binary on scenario and returns its
// report and how it ended.
func runScenario(t *testing.T, scenario string) (map[string]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+scenario)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			got[k] = v
		}
	}
	if msg, ok := got["error"]; ok {
		t.Fatalf("child %s: %s", scenario, msg)
	}
	if err != nil && stderr.Len() > 0 {
		t.Logf("child %s stderr:\n%s", scenario, stderr.Bytes())
	}
	return got, err
}

func TestLoadErrno(t *testing.T) {
	got, err := runScenario(t, "errno")
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	want := map[string]string{
		"fd":           "-1",
		"mkdir":        "ENOSYS", // filtered
		"mkdirat":      "ENOENT", // not filtered: the kernel ran it
		"uname-null":   "EDOM",   // arg0 == 0
		"uname-buf":    "0",
		"getpid-high":  "EXDEV", // top byte of arg2 is 0x42
		"getpid-other": "true",
		"getppid":      "ENOTTY", // the first of two unconditional rules
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
}

func TestLoadAllowlist(t *testing.T) {
	got, err := runScenario(t, "allowlist")
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	want := map[string]string{"mount": "EPERM", "personality-query": "0", "personality-set": "EPERM", "goroutine": "true"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
}

func TestLoadKillProcess(t *testing.T) {
	got, err := runScenario(t, "kill")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child: got %v, want death by SIGSYS", err)
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != unix.SIGSYS {
		t.Errorf("child ended with %v, want signal SIGSYS", exit)
	}
	if got["loaded"] != "true" || got["survived"] != "" {
		t.Errorf("got report %v, want loaded and not survived", got)
	}
}

func TestLoadNotify(t *testing.T) {
	got, err := runScenario(t, "notify")
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	want := map[string]string{
		"fd-valid": "true",
		"cloexec":  "true",
		"getppid":  "EXDEV",
		"agent":    fmt.Sprint("nr ", unix.SYS_GETPPID),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
}

func TestLoadThreads(t *testing.T) {
	tests := []struct {
		scenario    string
		otherThread string
	}{
		{"thread", "0"},    // without TSYNC the filter binds the calling thread only
		{"tsync", "EXDEV"}, // with it, every thread of the process
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			got, err := runScenario(t, tt.scenario)
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			if got["this-thread"] != "EXDEV" {
				t.Errorf("this-thread: got %q, want EXDEV", got["this-thread"])
			}
			if got["other-thread"] != tt.otherThread {
				t.Errorf("other-thread: got %q, want %q", got["other-thread"], tt.otherThread)
			}
		})
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	// Compile fails before any syscall, so this is safe in the test process.
	fd, err := Load(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TURBO"}})
	if err == nil || !strings.Contains(err.Error(), `unknown flag "SECCOMP_FILTER_FLAG_TURBO"`) {
		t.Errorf("got %d, %v; want an unknown flag error", fd, err)
	}
	if fd != -1 {
		t.Errorf("got fd %d, want -1", fd)
	}
}

func TestRejectedFlag(t *testing.T) {
	probe := func(bit uint) error {
		if bit == unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW {
			return unix.EINVAL
		}
		return nil
	}
	bits := uint(unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	f, err := rejectedFlag(bits, probe)
	if f.name != specs.LinuxSeccompFlagSpecAllow || !errors.Is(err, unix.EINVAL) {
		t.Errorf("got %s, %v; want SECCOMP_FILTER_FLAG_SPEC_ALLOW, EINVAL", f.name, err)
	}
	if f, err := rejectedFlag(unix.SECCOMP_FILTER_FLAG_LOG, probe); err != nil {
		t.Errorf("got %s, %v; want none", f.name, err)
	}
}

func TestWithListener(t *testing.T) {
	tests := []struct {
		bits   uint
		notify bool
		want   uint
	}{
		{unix.SECCOMP_FILTER_FLAG_LOG, false, unix.SECCOMP_FILTER_FLAG_LOG},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, false, 0},
		{0, true, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{unix.SECCOMP_FILTER_FLAG_TSYNC, true, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, true, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	}
	for _, tt := range tests {
		if got := withListener(tt.bits, tt.notify); got != tt.want {
			t.Errorf("withListener(%#x, %v): got %#x, want %#x", tt.bits, tt.notify, got, tt.want)
		}
	}
}

func TestSupportedFlags(t *testing.T) {
	got := SupportedFlags()
	for _, f := range got {
		if !slices.Contains(KnownFlags(), f) {
			t.Errorf("supported flag %s is not known", f)
		}
	}
	// Every kernel with seccomp(2) actions_logged (4.14+) has FLAG_LOG.
	if _, err := os.Stat("/proc/sys/kernel/seccomp/actions_logged"); err == nil && !slices.Contains(got, string(specs.LinuxSeccompFlagLog)) {
		t.Errorf("got %v, want SECCOMP_FILTER_FLAG_LOG among them", got)
	}
	t.Logf("supported: %v", got)
}
