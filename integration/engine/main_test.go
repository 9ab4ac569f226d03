// Package engine_test starts berthd and drives it with the real docker
// CLI (and raw API requests where the CLI would refuse the input first),
// checking what the CLI prints and what berthd leaves on disk.
package engine_test

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

// berthd is the binary under test: $BERTHD (make test sets it), else a
// build of this tree made by TestMain.
var berthd string

func TestMain(m *testing.M) {
	berthd = os.Getenv("BERTHD")
	var tmp string
	if berthd == "" && os.Geteuid() == 0 {
		var err error
		if tmp, err = os.MkdirTemp("", "berthd-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		berthd = filepath.Join(tmp, "berthd")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", berthd, "./cmd/berthd")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build berthd: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// daemon is one berthd started by a test, with its own data root, exec
// root and socket, and a docker CLI configuration of its own.
type daemon struct {
	t       *testing.T
	dir     string // short: the socket path must fit in 108 bytes
	Data    string
	Exec    string
	Sock    string
	config  string // DOCKER_CONFIG
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	client  *http.Client
}

// newDaemon starts berthd for the test and stops it (by PID) when the
// test ends.
func newDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "docker")
	dir, err := os.MkdirTemp("", "bd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, Data: filepath.Join(dir, "data"), Exec: filepath.Join(dir, "exec"),
		Sock: filepath.Join(dir, "b.sock"), config: filepath.Join(dir, "docker-config"), logPath: filepath.Join(dir, "berthd.log")}
	d.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.Sock)
		},
	}}
	t.Cleanup(func() {
		d.Stop()
		// A race detector build (BERTHD built with -race) reports here.
		for _, bad := range []string{"WARNING: DATA RACE", "panic:"} {
			if strings.Contains(d.Log(), bad) {
				t.Errorf("berthd log has %q", bad)
			}
		}
		if t.Failed() {
			t.Logf("berthd log:\n%s", d.Log())
		}
		os.RemoveAll(dir)
	})
	d.Start(args...)
	return d
}

// Start starts berthd over the daemon's directories and waits for its
// socket to answer _ping.
func (d *daemon) Start(args ...string) {
	d.t.Helper()
	if err := d.start(args...); err != nil {
		d.t.Fatalf("start berthd: %v\n%s", err, d.Log())
	}
}

func (d *daemon) start(args ...string) error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	base := []string{"--data-root", d.Data, "--exec-root", d.Exec, "-H", "unix://" + d.Sock,
		"--config-file", "/dev/null", "--debug", "--bridge=none"}
	if rt := os.Getenv("BERTH_RUNTIME"); rt != "" {
		base = append(base, "--add-runtime", "berth-runtime="+rt)
	}
	d.cmd = exec.Command(berthd, append(base, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return err
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("berthd exited: %v", d.cmd.ProcessState)
		default:
		}
		if resp, err := d.client.Get("http://berthd/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("berthd did not answer _ping in time")
}

// Stop sends SIGTERM to this berthd and waits for it to exit, killing
// it if it does not in time. It returns the exit status.
func (d *daemon) Stop() *os.ProcessState {
	if d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	select {
	case <-d.exited:
		return d.cmd.ProcessState
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
	return d.cmd.ProcessState
}

// Log returns what berthd wrote so far.
func (d *daemon) Log() string {
	b, _ := os.ReadFile(d.logPath)
	return string(b)
}

// result is what a docker command did.
type result struct {
	Stdout, Stderr string
	Code           int
}

// Docker runs the docker CLI against this berthd.
func (d *daemon) Docker(args ...string) result {
	d.t.Helper()
	return d.DockerIn(nil, args...)
}

// DockerIn runs the docker CLI with stdin.
func (d *daemon) DockerIn(stdin io.Reader, args ...string) result {
	d.t.Helper()
	return d.DockerEnv(stdin, nil, args...)
}

// DockerEnv runs the docker CLI with stdin and extra environment.
func (d *daemon) DockerEnv(stdin io.Reader, env []string, args ...string) result {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + d.dir,
		"DOCKER_HOST=unix://" + d.Sock,
		"DOCKER_CONFIG=" + d.config,
		"DOCKER_CLI_HINTS=false",
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		d.t.Fatalf("docker %s: timed out", strings.Join(args, " "))
	}
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			d.t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
		}
	}
	return result{stdout.String(), stderr.String(), code}
}

// OK runs docker and fails the test unless it exits 0; it returns
// stdout.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	r := d.Docker(args...)
	if r.Code != 0 {
		d.t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Fail runs docker, fails the test unless it exits non-zero, and returns
// stderr.
func (d *daemon) Fail(args ...string) string {
	d.t.Helper()
	r := d.Docker(args...)
	if r.Code == 0 {
		d.t.Fatalf("docker %s: exit 0, want failure\nstdout: %s", strings.Join(args, " "), r.Stdout)
	}
	return r.Stderr
}

// API sends a raw request to berthd and returns the status and body.
func (d *daemon) API(method, path string, body io.Reader, header ...string) (int, http.Header, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, "http://berthd"+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
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

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}
