// Package cli_test starts berthd and drives it with the berth CLI
// (bin/berth), checking what the CLI prints and its exit statuses the
// way a docker user would look at them.
package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// The binaries under test: $BERTHD and $BERTH (make test sets both),
// else builds of this tree made by TestMain.
var berthd, berth string

func TestMain(m *testing.M) {
	berthd, berth = os.Getenv("BERTHD"), os.Getenv("BERTH")
	var tmp string
	if (berthd == "" || berth == "") && os.Geteuid() == 0 {
		var err error
		if tmp, err = os.MkdirTemp("", "berth-cli-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, self, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..")
		for _, b := range []struct {
			path *string
			pkg  string
		}{{&berthd, "./cmd/berthd"}, {&berth, "./cmd/berth"}} {
			if *b.path != "" {
				continue
			}
			*b.path = filepath.Join(tmp, filepath.Base(b.pkg))
			cmd := exec.Command("go", "build", "-o", *b.path, b.pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
				os.Exit(1)
			}
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// daemon is one berthd started by a test, with its own data root, exec
// root and socket, and a berth CLI configuration directory of its own.
type daemon struct {
	t       *testing.T
	dir     string // short: the socket path must fit in 108 bytes
	Sock    string
	Config  string // the CLI's --config directory
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// newDaemon starts berthd for the test and stops it (by PID) when the
// test ends.
func newDaemon(t *testing.T) *daemon {
	t.Helper()
	testutil.RequireRoot(t)
	dir, err := os.MkdirTemp("", "bc-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, Sock: filepath.Join(dir, "b.sock"), Config: filepath.Join(dir, "cfg"),
		logPath: filepath.Join(dir, "berthd.log")}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.logPath)
			t.Logf("berthd log:\n%s", b)
		}
		os.RemoveAll(dir)
	})
	if err := d.start(); err != nil {
		b, _ := os.ReadFile(d.logPath)
		t.Fatalf("start berthd: %v\n%s", err, b)
	}
	return d
}

func (d *daemon) start() error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	d.cmd = exec.Command(berthd, "--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"-H", "unix://"+d.Sock, "--config-file", "/dev/null", "--debug", "--bridge=none")
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return err
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.Sock)
	}}}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-d.exited:
			return fmt.Errorf("berthd exited: %v", d.cmd.ProcessState)
		default:
		}
		if resp, err := hc.Get("http://berthd/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("berthd did not answer _ping in time")
}

// stop sends SIGTERM to this berthd and waits, killing it if it takes
// too long.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	select {
	case <-d.exited:
		return
	default:
	}
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.t.Errorf("berthd %d did not stop on SIGTERM; killing it", d.cmd.Process.Pid)
		syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
}

// result is what one berth command did.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Berth runs the CLI against this berthd.
func (d *daemon) Berth(args ...string) result {
	d.t.Helper()
	return d.BerthIn(nil, args...)
}

// BerthIn runs the CLI with stdin.
func (d *daemon) BerthIn(stdin io.Reader, args ...string) result {
	d.t.Helper()
	return run(d.t, stdin, []string{"BERTH_HOST=unix://" + d.Sock, "BERTH_CONFIG=" + d.Config}, args...)
}

// run runs bin/berth with a clean environment plus env.
func run(t *testing.T, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, berth, args...)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir()}, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("berth %s: timed out", strings.Join(args, " "))
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("berth %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// OK runs berth, fails the test unless it exits 0, and returns stdout.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	r := d.Berth(args...)
	if r.Code != 0 {
		d.t.Fatalf("berth %s: %s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// Fail runs berth, fails the test unless it exits with code, and
// returns stderr.
func (d *daemon) Fail(code int, args ...string) string {
	d.t.Helper()
	r := d.Berth(args...)
	if r.Code != code {
		d.t.Errorf("berth %s: got %s\nwant exit %d", strings.Join(args, " "), r, code)
	}
	return r.Stderr
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
