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
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testdaemon"
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
	*testdaemon.Daemon
	t   *testing.T
	dir string
	// NS is berthd's namespace (the test's "host"), Outside the external
	// namespace; in runs jobs on a thread inside NS.
	NS, Outside netns.NsHandle
	in          *nsThread
	args        []string
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
	d := &daemon{Daemon: testdaemon.New(berthd, dir), t: t, dir: dir, args: args}
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
		if d.Running() {
			d.CheckClean()
		}
		d.Stop()
		d.Check(t)
	})
	d.Start()
	d.Image = loadImage(t, d)
	return d
}

// Start starts berthd in the namespace and waits for it to answer _ping.
// The thread that forks stays alive (and in the namespace) for the test,
// so the death signal comes only if the test process dies.
func (d *daemon) Start() {
	d.t.Helper()
	fork := func(cmd *exec.Cmd) error { return d.in.Do(cmd.Start) }
	if err := d.Daemon.Start(fork, d.args...); err != nil {
		d.t.Fatalf("start berthd: %v\n%s", err, d.Log())
	}
}

// Stop sends SIGTERM to berthd and waits for it to exit (SIGKILL after
// 30 s).
func (d *daemon) Stop() { d.Daemon.Stop(d.t) }

// result is what a docker command did.
type result = testdaemon.Result

// Docker runs the docker CLI against this berthd.
func (d *daemon) Docker(args ...string) result {
	d.t.Helper()
	return d.RunDocker(d.t, nil, nil, args...)
}

// OK runs docker, fails the test unless it exits 0, and returns stdout
// trimmed.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	return strings.TrimSpace(d.Docker(args...).Succeeded(d.t, "docker", args))
}

// Fail runs docker, fails the test unless it exits non-zero, and returns
// stderr.
func (d *daemon) Fail(args ...string) string {
	d.t.Helper()
	return d.Docker(args...).Failed(d.t, "docker", args)
}

// API sends a raw JSON request to berthd and returns the status and
// body.
func (d *daemon) API(method, path string, body io.Reader) (int, string) {
	d.t.Helper()
	code, _, b := d.Daemon.API(d.t, method, path, body, "Content-Type", "application/json")
	return code, b
}
