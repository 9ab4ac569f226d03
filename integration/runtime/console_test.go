package runtime_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
)

// consoleListener listens on a unix socket for the pty master that
// create sends with --console-socket, as containerd and conmon do.
type consoleListener struct {
	path   string
	master chan *os.File
	errc   chan error
}

func listenConsole(t *testing.T) *consoleListener {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cl := &consoleListener{path: path, master: make(chan *os.File, 1), errc: make(chan error, 1)}
	go func() {
		f, err := acceptMaster(l)
		if err != nil {
			cl.errc <- err
			return
		}
		cl.master <- f
	}()
	return cl
}

// acceptMaster accepts one connection and receives one fd with
// SCM_RIGHTS, made non-blocking so reads can time out.
func acceptMaster(l *net.UnixListener) (*os.File, error) {
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("console socket: no control message with the pty master")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("console socket: no fd in the control message")
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

func (cl *consoleListener) wait(t *testing.T) *os.File {
	t.Helper()
	select {
	case f := <-cl.master:
		t.Cleanup(func() { f.Close() })
		return f
	case err := <-cl.errc:
		t.Fatalf("receive pty master: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no pty master arrived on the console socket")
	}
	return nil
}

// readUntil reads from the pty master until the output holds want.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !strings.Contains(out.String(), want) {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("read pty: %v; got %q, want %q in it", err, out.String(), want)
		}
	}
	return out.String()
}

// readAll reads the pty master until the slave side is closed (EIO).
func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, syscall.EIO) {
			return out.String()
		}
		if err != nil {
			t.Fatalf("read pty: %v; got %q so far", err, out.String())
		}
	}
}

// jsonIn decodes the first JSON object in pty output (a pty turns "\n"
// into "\r\n", which JSON takes as white space).
func jsonIn(t *testing.T, out string, v any) {
	t.Helper()
	i := strings.IndexByte(out, '{')
	if i < 0 {
		t.Fatalf("no JSON in pty output %q", out)
	}
	if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(v); err != nil {
		t.Fatalf("decode JSON in pty output %q: %v", out, err)
	}
}

func TestConsoleSocket(t *testing.T) {
	t.Run("interactive shell", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t, "/bin/sh")
		b.Spec.Process.Terminal = true
		b.Spec.Process.ConsoleSize = &specs.Box{Height: 40, Width: 123}
		b.Save(t)
		cl := listenConsole(t)
		id := r.id()
		r.ok("create", "--bundle", b.Dir, "--console-socket", cl.path, id)
		master := cl.wait(t)
		ws, err := unix.IoctlGetWinsize(int(master.Fd()), unix.TIOCGWINSZ)
		if err != nil {
			t.Fatal(err)
		}
		if ws.Row != 40 || ws.Col != 123 {
			t.Errorf("pty size: got %dx%d, want 40x123 (process.consoleSize)", ws.Row, ws.Col)
		}
		r.ok("start", id)
		if _, err := master.WriteString("echo $((6*7))-marker\n"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, master, "42-marker")
		// The pty is the shell's stdio and /dev/console.
		master.WriteString("/observer stat /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 /dev/console; echo end-$((1+1))\n")
		out := readUntil(t, master, "end-2")
		i := strings.Index(out, "\n[{") // the output, not the echoed command line
		if i < 0 {
			t.Fatalf("no observer output in %q", out)
		}
		var st []fileInfo
		if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(&st); err != nil || len(st) != 4 {
			t.Fatalf("decode observer stat in %q: %v", out, err)
		}
		for _, fd := range st[:3] {
			if fd.Link != "/dev/pts/0" {
				t.Errorf("%s: got %q, want /dev/pts/0", fd.Path, fd.Link)
			}
		}
		if c := st[3]; c.Type != "char" || c.Major != 136 || c.Minor != 0 {
			t.Errorf("/dev/console: got %+v, want the pty /dev/pts/0 (char 136:0)", c)
		}
		master.WriteString("exit 3\n")
		waitStatus(t, r, id, "stopped")
		r.ok("delete", id)
	})
	t.Run("observer on the pty", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t, "/observer", "info")
		b.Spec.Process.Terminal = true
		b.Save(t)
		cl := listenConsole(t)
		id := r.id()
		r.ok("create", "--bundle", b.Dir, "--console-socket", cl.path, id)
		master := cl.wait(t)
		r.ok("start", id)
		var o observed
		jsonIn(t, readAll(t, master), &o)
		for fd := range 3 {
			if got := o.FDs[strconv.Itoa(fd)]; got != "/dev/pts/0" {
				t.Errorf("fd %d: got %q, want /dev/pts/0", fd, got)
			}
		}
		waitStatus(t, r, id, "stopped")
		r.ok("delete", id)
	})
	t.Run("terminal without a console socket", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t, "/observer", "info")
		b.Spec.Process.Terminal = true
		b.Save(t)
		id := r.id()
		res := r.run("create", "--bundle", b.Dir, id)
		if res.code == 0 || !strings.Contains(res.stderr, "console-socket") {
			t.Errorf("create of a terminal container without --console-socket: exit %d, stderr %q; want an error naming --console-socket", res.code, res.stderr)
		}
		requireNothingLeft(t, r, id)
	})
}

// openPty opens a pty pair in the test's own devpts; the master is
// non-blocking, so reads can time out.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(mfd), "pty-master")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func TestRunTerminal(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/bin/sh", "-c", "/observer info; exit 5")
	b.Spec.Process.Terminal = true
	b.Save(t)
	master, slave := openPty(t)
	cmd := exec.Command(binary, "--root", r.root, "run", "--bundle", b.Dir, r.id())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	out := readAll(t, master)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("run -t did not exit; output %q", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 5 {
		t.Errorf("run on a terminal: got exit %d, want the container's 5; output %q", code, out)
	}
	var o observed
	jsonIn(t, out, &o)
	for fd := range 3 {
		if got := o.FDs[strconv.Itoa(fd)]; !strings.HasPrefix(got, "/dev/pts/") {
			t.Errorf("fd %d in the container: got %q, want its pty", fd, got)
		}
	}
	if o.Status["CapEff"] == "" || o.Pid == 0 {
		t.Errorf("observer output on the terminal is incomplete: %+v", o)
	}
}

func TestOCIVersions(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"1.0.2-dev", true}, {"1.1.0", true}, {"1.2.0", true}, {"1.3.0", true}, {"2.0.0", false}} {
		t.Run(tc.version, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "echo", "ran")
			b.Spec.Version = tc.version
			b.Save(t)
			id := r.id()
			res := r.run("run", "--bundle", b.Dir, id)
			if tc.ok {
				if res.code != 0 || res.stdout != "ran\n" {
					t.Errorf("ociVersion %s: exit %d, stdout %q, stderr %q; want it to run", tc.version, res.code, res.stdout, res.stderr)
				}
				return
			}
			if res.code == 0 {
				t.Fatalf("ociVersion %s was accepted", tc.version)
			}
			if !strings.Contains(res.stderr, tc.version) {
				t.Errorf("ociVersion %s: got error %q, want it to name the version", tc.version, res.stderr)
			}
			requireNothingLeft(t, r, id)
		})
	}
}
