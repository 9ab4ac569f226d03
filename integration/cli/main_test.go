// Package cli_test starts berthd and drives it with the berth CLI
// (bin/berth), checking what the CLI prints and its exit statuses the
// way a docker user would look at them.
package cli_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testdaemon"
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
	*testdaemon.Daemon
	t      *testing.T
	dir    string // short: the socket path must fit in 108 bytes
	Config string // the CLI's --config directory
}

// newDaemon starts berthd for the test (with no default bridge, as for
// every test here) and stops it (by PID) when the test ends.
func newDaemon(t *testing.T) *daemon {
	t.Helper()
	testutil.RequireRoot(t)
	dir, err := os.MkdirTemp("", "bc-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{Daemon: testdaemon.New(berthd, dir), t: t, dir: dir, Config: filepath.Join(dir, "cfg")}
	t.Cleanup(func() {
		d.Stop(t)
		d.Check(t)
		os.RemoveAll(dir)
	})
	if err := d.Start(nil, "--bridge=none"); err != nil {
		t.Fatalf("start berthd: %v\n%s", err, d.Log())
	}
	return d
}

// result is what one berth command did.
type result = testdaemon.Result

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
	return testdaemon.Run(t, stdin, append([]string{"HOME=" + t.TempDir()}, env...), berth, args...)
}

// OK runs berth, fails the test unless it exits 0, and returns stdout.
func (d *daemon) OK(args ...string) string {
	d.t.Helper()
	return d.Berth(args...).Succeeded(d.t, "berth", args)
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
