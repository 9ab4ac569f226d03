// Package engine_test starts berthd and drives it with the real docker
// CLI (and raw API requests where the CLI would refuse the input first),
// checking what the CLI prints and what berthd leaves on disk.
package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testdaemon"
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
	*testdaemon.Daemon
	t      *testing.T
	dir    string // short: the socket path must fit in 108 bytes
	config string // DOCKER_CONFIG
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
	d := &daemon{Daemon: testdaemon.New(berthd, dir), t: t, dir: dir}
	d.config = d.DockerConfig()
	t.Cleanup(func() {
		d.Stop()
		d.Check(t)
		os.RemoveAll(dir)
	})
	d.Start(args...)
	return d
}

// Start starts berthd over the daemon's directories (with no default
// bridge, as berthd runs for every test here) and waits for its socket
// to answer _ping.
func (d *daemon) Start(args ...string) {
	d.t.Helper()
	if err := d.Daemon.Start(nil, append([]string{"--bridge=none"}, args...)...); err != nil {
		d.t.Fatalf("start berthd: %v\n%s", err, d.Log())
	}
}

// Stop sends SIGTERM to this berthd and waits for it to exit, killing
// it if it does not in time. It returns the exit status.
func (d *daemon) Stop() *os.ProcessState { return d.Daemon.Stop(d.t) }

// result is what a docker command did.
type result = testdaemon.Result

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
	return d.RunDocker(d.t, stdin, env, args...)
}

// OK runs docker and fails the test unless it exits 0; it returns
// stdout.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	return d.Docker(args...).Succeeded(d.t, "docker", args)
}

// Fail runs docker, fails the test unless it exits non-zero, and returns
// stderr.
func (d *daemon) Fail(args ...string) string {
	d.t.Helper()
	return d.Docker(args...).Failed(d.t, "docker", args)
}

// API sends a raw request to berthd and returns the status, headers
// and body; header is name, value pairs.
func (d *daemon) API(method, path string, body io.Reader, header ...string) (int, http.Header, string) {
	d.t.Helper()
	return d.Daemon.API(d.t, method, path, body, header...)
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
