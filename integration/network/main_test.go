// Package network_test is the network service's end-to-end proof: berthd
// runs in a network namespace of its own, which the test made and holds
// (so it outlives a berthd killed and started again), driven by the real
// docker CLI over its unix socket. Inside that namespace the test adds an
// "external" link to a second namespace of its own (192.0.2.0/24, an
// address block for documentation that no real host has), so outbound NAT
// and published ports are checked from another host's point of view. No
// packet leaves these namespaces, and they go with the test.
package network_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testutil"
)

// The binaries under test: $BERTHD (make test sets it; berth-runtime,
// berth-shim and berth-init lie beside it), else bin/ after make build,
// which TestMain runs.
var (
	berthd string
	probe  string // the static probe program (testdata/probe)
)

// The external link: berthd's end and the outside namespace's.
var (
	extHost    = netip.MustParsePrefix("192.0.2.1/24")
	extOutside = netip.MustParsePrefix("192.0.2.2/24")
)

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if code < 0 {
		code = m.Run()
	}
	os.Exit(code)
}

// setup finds or builds the binaries; a code >= 0 ends the run at once.
func setup() (int, error) {
	tmp, err := os.MkdirTemp("", "berth-nettest-")
	if err != nil {
		return 0, err
	}
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	probe = filepath.Join(tmp, "probe")
	code := -1
	defer func() {
		if code >= 0 {
			os.RemoveAll(tmp)
		}
	}()
	build := exec.Command("go", "build", "-o", probe, "./integration/network/testdata/probe")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("build probe: %v\n%s", err, out)
	}
	berthd = os.Getenv("BERTHD")
	if berthd == "" && os.Geteuid() == 0 {
		mk := exec.Command("make", "build")
		mk.Dir = root
		if out, err := mk.CombinedOutput(); err != nil {
			return 1, fmt.Errorf("make build: %v\n%s", err, out)
		}
		berthd = filepath.Join(root, "bin", "berthd")
	}
	return code, nil
}

// daemon is one berthd in a network namespace the test made, with the
// external link, its own data and exec roots, socket and docker CLI
// configuration.
type daemon struct {
	t       *testing.T
	dir     string
	Sock    string
	logPath string
	// NS is berthd's namespace (the test's "host"), Outside the external
	// namespace; in runs jobs on a thread inside NS.
	NS, Outside netns.NsHandle
	in          *nsThread
	args        []string
	cmd         *exec.Cmd
	exited      chan struct{}
	client      *http.Client
	Image       string
}

// newDaemon starts berthd for the test in a fresh network namespace and
// loads the test image. When the test ends, every container is removed,
// the test fails if anything is left (links, rules, leases), and berthd
// is stopped; the namespaces then go with the test's handles.
func newDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "docker")
	if berthd == "" {
		t.Fatal("no berthd to test: set BERTHD or run as root so that make build runs")
	}
	dir, err := os.MkdirTemp("", "bn-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, Sock: filepath.Join(dir, "b.sock"), logPath: filepath.Join(dir, "berthd.log"), args: args}
	d.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.Sock)
		},
	}}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if d.NS, err = netlab.NewNS(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.NS.Close() })
	if d.Outside, err = netlab.NewNS(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Outside.Close() })
	if err := netlab.Link(d.NS, "ext0", extHost, d.Outside, "ext1", extOutside); err != nil {
		t.Fatal(err)
	}
	d.in = startNSThread(t, d.NS)
	t.Cleanup(func() {
		if d.running() {
			d.CheckClean()
		}
		d.Stop()
		for _, bad := range []string{"WARNING: DATA RACE", "panic:"} {
			if strings.Contains(d.Log(), bad) {
				t.Errorf("berthd log has %q", bad)
			}
		}
		if t.Failed() {
			t.Logf("berthd log:\n%s", d.Log())
		}
	})
	d.Start()
	d.Image = loadImage(t, d)
	return d
}

// Start starts berthd in the namespace and waits for it to answer _ping.
func (d *daemon) Start() {
	d.t.Helper()
	if err := d.start(); err != nil {
		d.t.Fatalf("start berthd: %v\n%s", err, d.Log())
	}
}

func (d *daemon) start() error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"-H", "unix://" + d.Sock, "--config-file", "/dev/null", "--debug"}
	if rt := os.Getenv("BERTH_RUNTIME"); rt != "" {
		args = append(args, "--add-runtime", "berth-runtime="+rt)
	}
	d.cmd = exec.Command(berthd, append(args, d.args...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// The thread that forks stays alive (and in the namespace) for the
	// test, so the death signal comes only if the test process dies.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.in.Do(d.cmd.Start); err != nil {
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

func (d *daemon) running() bool {
	if d.cmd == nil || d.exited == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM to berthd and waits for it to exit (SIGKILL after
// 30 s).
func (d *daemon) Stop() {
	if !d.running() {
		return
	}
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.t.Errorf("berthd %d did not stop on SIGTERM; killing it", d.cmd.Process.Pid)
		d.Kill()
	}
}

// Kill kills berthd with SIGKILL, as a crash would end it.
func (d *daemon) Kill() {
	if !d.running() {
		return
	}
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.exited
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + d.dir,
		"DOCKER_HOST=unix://" + d.Sock,
		"DOCKER_CONFIG=" + filepath.Join(d.dir, "docker-config"),
		"DOCKER_CLI_HINTS=false",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		d.t.Fatalf("docker %s: timed out", strings.Join(args, " "))
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			d.t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// OK runs docker, fails the test unless it exits 0, and returns stdout
// trimmed.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	r := d.Docker(args...)
	if r.Code != 0 {
		d.t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
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
func (d *daemon) API(method, path string, body io.Reader) (int, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, "http://berthd"+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
