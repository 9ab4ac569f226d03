package testdaemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts of a start (until _ping answers) and a stop (until SIGKILL).
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 30 * time.Second
)

// Daemon is one berthd over Dir. Its methods are for the test's
// goroutine.
type Daemon struct {
	Bin     string // the berthd binary
	Dir     string // short: the socket path must fit in 108 bytes
	Data    string // --data-root, Dir/data
	Exec    string // --exec-root, Dir/exec
	Sock    string // the API socket, Dir/b.sock
	LogPath string // berthd's output, Dir/berthd.log
	// Client speaks HTTP to berthd over Sock (any host name will do).
	Client *http.Client

	cmd    *exec.Cmd
	exited chan struct{}
}

// New returns the daemon of bin over dir; nothing starts yet.
func New(bin, dir string) *Daemon {
	d := &Daemon{Bin: bin, Dir: dir, Data: filepath.Join(dir, "data"), Exec: filepath.Join(dir, "exec"),
		Sock: filepath.Join(dir, "b.sock"), LogPath: filepath.Join(dir, "berthd.log")}
	d.Client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.Sock)
		},
	}}
	return d
}

// Args are the arguments every test berthd gets: its roots and socket,
// no configuration file, debug logs, and berth-runtime from
// $BERTH_RUNTIME when set.
func (d *Daemon) Args() []string {
	args := []string{"--data-root", d.Data, "--exec-root", d.Exec, "-H", "unix://" + d.Sock,
		"--config-file", "/dev/null", "--debug"}
	if rt := os.Getenv("BERTH_RUNTIME"); rt != "" {
		args = append(args, "--add-runtime", "berth-runtime="+rt)
	}
	return args
}

// Start runs berthd with Args and then args, and waits for its socket to
// answer _ping. fork starts the command (nil: cmd.Start on the calling
// thread); the thread that forks must live as long as berthd, for the
// death signal (SIGKILL when the test process dies) follows it.
func (d *Daemon) Start(fork func(*exec.Cmd) error, args ...string) error {
	logf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	d.cmd = exec.Command(d.Bin, append(d.Args(), args...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if fork == nil {
		fork = (*exec.Cmd).Start
	}
	if err := fork(d.cmd); err != nil {
		return err
	}
	exited := make(chan struct{})
	d.exited = exited
	cmd := d.cmd
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return fmt.Errorf("berthd exited: %v", cmd.ProcessState)
		default:
		}
		if resp, err := d.Client.Get("http://berthd/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("berthd did not answer _ping in time")
}

// Running reports whether berthd was started and has not exited.
func (d *Daemon) Running() bool {
	if d.exited == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Pid is berthd's process ID (0 before the first start).
func (d *Daemon) Pid() int {
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Stop sends SIGTERM to berthd and waits for it to exit, killing it
// (and failing the test) if it does not in time. It returns the exit
// status, nil before the first start.
func (d *Daemon) Stop(t testing.TB) *os.ProcessState {
	if d.exited == nil {
		return nil
	}
	if d.Running() {
		syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(stopTimeout):
			t.Errorf("berthd %d did not stop on SIGTERM; killing it", d.cmd.Process.Pid)
			d.Kill()
		}
	}
	return d.cmd.ProcessState
}

// Kill ends berthd with SIGKILL, as a crash would, and waits for it.
func (d *Daemon) Kill() {
	if !d.Running() {
		return
	}
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.exited
}

// Log returns what berthd wrote so far.
func (d *Daemon) Log() string {
	b, _ := os.ReadFile(d.LogPath)
	return string(b)
}

// Check fails the test when berthd's log shows a data race (a BERTHD
// built with -race reports there) or a panic, and prints the log when
// the test failed.
func (d *Daemon) Check(t testing.TB) {
	t.Helper()
	log := d.Log()
	for _, bad := range []string{"WARNING: DATA RACE", "panic:"} {
		if strings.Contains(log, bad) {
			t.Errorf("berthd log has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("berthd log:\n%s", log)
	}
}
