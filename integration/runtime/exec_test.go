package runtime_test

// exec: every option seen from inside the new process; the process joins
// all of the container's namespaces and its cgroup; its exit code comes
// back; a tty is handed over a console socket.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
)

// capBit reports whether capability number bit is in the hex mask of a
// /proc/PID/status Cap* line.
func capBit(t *testing.T, mask string, bit uint) bool {
	t.Helper()
	v, err := strconv.ParseUint(mask, 16, 64)
	if err != nil {
		t.Fatalf("parse capability mask %q: %v", mask, err)
	}
	return v&(1<<bit) != 0
}

const (
	capSysAdmin = 21
	capKill     = 5
)

func TestExecOptions(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "sleep")
	b.Spec.Process.NoNewPrivileges = false
	b.Spec.Process.Env = append(b.Spec.Process.Env, goQuietEnv)
	c := r.startLive(b)

	procFile := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(procFile, []byte(`{"args":["/observer","info"],"env":["PATH=/bin","FROM_FILE=1","`+goQuietEnv+`"],
		"cwd":"/var","user":{"uid":1000,"gid":1000,"additionalGids":[5]},"noNewPrivileges":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	preserved, err := os.Open(procFile)
	if err != nil {
		t.Fatal(err)
	}
	defer preserved.Close()

	for _, tc := range []struct {
		name  string
		flags []string
		extra []*os.File
		check func(t *testing.T, o observed)
	}{
		{"inline", nil, nil, func(t *testing.T, o observed) {
			if o.UID != 0 || o.Cwd != "/" || o.Hostname != "berth-test" {
				t.Errorf("got uid %d cwd %q hostname %q, want 0, / and berth-test", o.UID, o.Cwd, o.Hostname)
			}
			if !slices.Contains(o.Env, "TERM=xterm") {
				t.Errorf("env %v: want the container's process env (TERM=xterm)", o.Env)
			}
			if capBit(t, o.Status["CapEff"], capSysAdmin) || !capBit(t, o.Status["CapEff"], capKill) {
				t.Errorf("CapEff %s: want the container's set (CAP_KILL, no CAP_SYS_ADMIN)", o.Status["CapEff"])
			}
			if o.Status["NoNewPrivs"] != "0" {
				t.Errorf("NoNewPrivs: got %s, want 0 as configured", o.Status["NoNewPrivs"])
			}
		}},
		{"env", []string{"--env", "FOO=bar", "-e", "BAZ=qux"}, nil, func(t *testing.T, o observed) {
			for _, want := range []string{"FOO=bar", "BAZ=qux", "TERM=xterm"} {
				if !slices.Contains(o.Env, want) {
					t.Errorf("env: got %v, want %s in it", o.Env, want)
				}
			}
		}},
		{"cwd", []string{"--cwd", "/tmp"}, nil, func(t *testing.T, o observed) {
			if o.Cwd != "/tmp" {
				t.Errorf("cwd: got %q (%s), want /tmp", o.Cwd, o.CwdErr)
			}
		}},
		{"user", []string{"--user", "1000:1001", "--additional-gids", "5"}, nil, func(t *testing.T, o observed) {
			if o.UID != 1000 || o.EUID != 1000 || o.GID != 1001 || o.EGID != 1001 || !slices.Equal(o.Groups, []int{5}) {
				t.Errorf("got uid %d/%d gid %d/%d groups %v, want 1000, 1001 and [5]", o.UID, o.EUID, o.GID, o.EGID, o.Groups)
			}
			if o.Status["CapEff"] != "0000000000000000" {
				t.Errorf("CapEff of uid 1000: got %s, want none", o.Status["CapEff"])
			}
		}},
		{"cap", []string{"--cap", "CAP_SYS_ADMIN"}, nil, func(t *testing.T, o observed) {
			for _, set := range []string{"CapEff", "CapPrm", "CapBnd"} {
				if !capBit(t, o.Status[set], capSysAdmin) || !capBit(t, o.Status[set], capKill) {
					t.Errorf("%s %s: want CAP_SYS_ADMIN added to the container's set", set, o.Status[set])
				}
			}
		}},
		{"no-new-privs", []string{"--no-new-privs"}, nil, func(t *testing.T, o observed) {
			if o.Status["NoNewPrivs"] != "1" {
				t.Errorf("NoNewPrivs: got %s, want 1", o.Status["NoNewPrivs"])
			}
		}},
		{"process-file", []string{"--process", procFile}, nil, func(t *testing.T, o observed) {
			if o.UID != 1000 || o.GID != 1000 || o.Cwd != "/var" || !slices.Equal(o.Groups, []int{5}) {
				t.Errorf("got uid %d gid %d groups %v cwd %q, want 1000, 1000, [5], /var", o.UID, o.GID, o.Groups, o.Cwd)
			}
			if !slices.Equal(o.Env, []string{"PATH=/bin", "FROM_FILE=1", goQuietEnv, "HOME=/home/tester"}) {
				t.Errorf("env: got %v, want the file's env only", o.Env)
			}
			if o.Status["NoNewPrivs"] != "1" {
				t.Errorf("NoNewPrivs: got %s, want 1 from the file", o.Status["NoNewPrivs"])
			}
		}},
		{"preserve-fds", []string{"--preserve-fds", "1"}, []*os.File{preserved}, func(t *testing.T, o observed) {
			if !strings.HasSuffix(o.FDs["3"], "process.json") {
				t.Errorf("fds: got %v, want 3 → …/process.json", o.FDs)
			}
			checkOnlyFDs(t, o.FDs, 4)
		}},
		{"no-preserve", nil, []*os.File{preserved}, func(t *testing.T, o observed) {
			checkOnlyFDs(t, o.FDs, 3)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"exec"}, tc.flags...), c.id)
			if !slices.Contains(tc.flags, "--process") {
				args = append(args, "/observer", "info")
			}
			res, _, _ := r.invoke(rtCall{args: args, extra: tc.extra})
			if res.code != 0 {
				t.Fatalf("exec %v: exit %d, stderr %s", tc.flags, res.code, res.stderr)
			}
			var o observed
			if err := json.Unmarshal([]byte(res.stdout), &o); err != nil {
				t.Fatalf("decode %q: %v", res.stdout, err)
			}
			// Always: inside the container's pid namespace, not pid 1.
			if o.Pid <= 1 {
				t.Errorf("pid in the container: got %d, want > 1", o.Pid)
			}
			tc.check(t, o)
		})
	}

	// --process - reads stdin.
	res, _, _ := r.invoke(rtCall{args: []string{"exec", "--process", "-", c.id}, stdin: []byte(`{"args":["/observer","exit","3"],"cwd":"/"}`)})
	if res.code != 3 {
		t.Errorf("exec --process -: exit %d (stderr %s), want 3", res.code, res.stderr)
	}
	c.deleteAndCheck("--force")
}

// goQuietEnv keeps the observer's Go runtime from holding cgroup files
// open (container-aware GOMAXPROCS), so the fds it reports are the ones it
// was given, plus its own poller (one epoll fd and one eventfd).
const goQuietEnv = "GODEBUG=containermaxprocs=0,updatemaxprocs=0"

// checkOnlyFDs fails unless fds are exactly 0 … n-1, besides the Go
// poller's epoll and eventfd of the observer itself.
func checkOnlyFDs(t *testing.T, fds map[string]string, n int) {
	t.Helper()
	fds = maps.Clone(fds)
	for _, own := range []string{"anon_inode:[eventpoll]", "anon_inode:[eventfd]"} {
		for fd, target := range fds {
			if target == own {
				delete(fds, fd)
				break
			}
		}
	}
	for fd, target := range fds {
		if i, err := strconv.Atoi(fd); err != nil || i >= n {
			t.Errorf("fd %s → %s is open, want only fds below %d (all: %v)", fd, target, n, fds)
		}
	}
	for i := 0; i < n; i++ {
		if _, ok := fds[strconv.Itoa(i)]; !ok {
			t.Errorf("fd %d is not open (all: %v)", i, fds)
		}
	}
}

func TestExecExitCode(t *testing.T) {
	r := newRT(t)
	c := r.startLive(testbundle.New(t, "/observer", "sleep"))
	for _, code := range []int{0, 1, 42, 255} {
		res := r.run("exec", c.id, "/observer", "exit", strconv.Itoa(code))
		if res.code != code {
			t.Errorf("exec exit %d: got %d (stderr %s)", code, res.code, res.stderr)
		}
	}
	// Killed by a signal: 128+n, as a shell reports it.
	if res := r.run("exec", c.id, "sh", "-c", "kill -KILL $$"); res.code != 137 {
		t.Errorf("exec of a process killed by SIGKILL: got exit %d, want 137", res.code)
	}
	res := r.run("exec", c.id, "/no/such/program")
	if res.code == 0 || !strings.Contains(res.stderr, "/no/such/program") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("exec of a missing program: exit %d, stderr %q; want one line naming it", res.code, res.stderr)
	}
	res = r.run("exec", c.id, "nosuchcmd")
	if res.code == 0 || !strings.Contains(res.stderr, "executable file not found") {
		t.Errorf("exec of a missing command: exit %d, stderr %q", res.code, res.stderr)
	}
	c.deleteAndCheck("--force")
}

// TestExecJoins: a detached exec process shares every namespace and the
// cgroups of init, and its pid file is right.
func TestExecJoins(t *testing.T) {
	r := newRT(t)
	c := r.startLive(testbundle.New(t, "/observer", "sleep"))
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "--detach", "--pid-file", pidFile, c.id, "/observer", "sleep")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file: got %q", data)
	}
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(cmd) != "/observer\x00sleep\x00" {
		t.Errorf("pid file names %d running %q, want /observer sleep", pid, cmd)
	}
	for _, ns := range []string{"mnt", "pid", "net", "ipc", "uts", "cgroup", "user", "time"} {
		want, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", c.pid, ns))
		got, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err1 != nil || err2 != nil || got != want {
			t.Errorf("%s namespace: exec process in %s, init in %s (%v %v)", ns, got, want, err1, err2)
		}
	}
	// The pid namespace for children too.
	want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", c.pid))
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", pid)); got != want {
		t.Errorf("pid_for_children: got %s, want %s", got, want)
	}
	initCg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.pid))
	execCg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if string(initCg) != string(execCg) {
		t.Errorf("cgroups: exec process in\n%s\ninit in\n%s", execCg, initCg)
	}
	if ps := c.psPids(); !slices.Contains(ps, pid) {
		t.Errorf("ps: got %v, want the exec process %d in it", ps, pid)
	}
	// The same root: a file the container's init sees.
	if err := os.WriteFile(filepath.Join(c.b.Rootfs, "tmp", "marker"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	initRoot, _ := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/marker", c.pid))
	execRoot, err := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/marker", pid))
	if err != nil || !os.SameFile(initRoot, execRoot) {
		t.Errorf("exec process root does not hold the container's /tmp/marker: %v", err)
	}
	c.deleteAndCheck("--force")
	if !procGone(pid) {
		t.Errorf("exec process %d still runs after delete --force", pid)
	}
}

// TestExecTTY: with --tty and --console-socket the pty master arrives over
// the socket (SCM_RIGHTS) and the process has the slave as its terminal.
func TestExecTTY(t *testing.T) {
	r := newRT(t)
	c := r.startLive(testbundle.New(t, "/observer", "sleep"))
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		name, out string
		err       error
	}
	ch := make(chan got, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			ch <- got{err: err}
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			ch <- got{err: fmt.Errorf("no control message: %v", err)}
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			ch <- got{err: fmt.Errorf("no fd: %v", err)}
			return
		}
		master := os.NewFile(uintptr(fds[0]), "master")
		defer master.Close()
		var out []byte
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			out = append(out, b[:n]...)
			if err != nil { // EIO once the slave side is closed
				break
			}
		}
		ch <- got{name: string(buf[:n]), out: string(out)}
	}()
	res := r.run("exec", "--tty", "--console-socket", sock, c.id, "sh", "-c", "tty; test -t 0 && test -t 1 && echo is-a-tty; exit 5")
	if res.code != 5 {
		t.Errorf("exec --tty: exit %d (stderr %s), want 5", res.code, res.stderr)
	}
	g := <-ch
	if g.err != nil {
		t.Fatalf("console socket: %v", g.err)
	}
	if !strings.Contains(g.out, "/dev/pts/") || !strings.Contains(g.out, "is-a-tty") {
		t.Errorf("pty output: got %q, want /dev/pts/N and is-a-tty", g.out)
	}
	if g.name == "" {
		t.Errorf("console socket message: empty name, want the master's name")
	}
	c.deleteAndCheck("--force")
}

// TestExecStopped: exec into a stopped container fails clearly and
// starts nothing.
func TestExecStopped(t *testing.T) {
	r := newRT(t)
	c := r.startLive(testbundle.New(t, "true"))
	waitStatus(t, r, c.id, "stopped")
	res := r.run("exec", c.id, "/observer", "info")
	if res.code == 0 || !strings.Contains(res.stderr, "stopped") || res.stdout != "" {
		t.Errorf("exec into a stopped container: exit %d, stdout %q, stderr %q; want a refusal naming its status", res.code, res.stdout, res.stderr)
	}
	if res := r.run("exec", "no-such-ctr", "true"); res.code == 0 || !strings.Contains(res.stderr, "does not exist") {
		t.Errorf("exec into a missing container: exit %d, stderr %q", res.code, res.stderr)
	}
	c.deleteAndCheck()
}
