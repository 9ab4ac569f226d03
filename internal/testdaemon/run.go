package testdaemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runTimeout bounds one CLI command.
const runTimeout = 2 * time.Minute

// Result is what one CLI command did.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Run runs program with args and stdin, in an environment of a fixed
// PATH and env only (HOME among them), and returns what it did. A
// program that cannot run or runs over two minutes fails the test.
func Run(t testing.TB, stdin io.Reader, env []string, program string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out", filepath.Base(program), strings.Join(args, " "))
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", filepath.Base(program), strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return Result{stdout.String(), stderr.String(), code}
}

// DockerConfig is the docker CLI's configuration directory for this
// berthd (DOCKER_CONFIG).
func (d *Daemon) DockerConfig() string { return filepath.Join(d.Dir, "docker-config") }

// RunDocker runs the docker CLI against this berthd, with HOME at Dir,
// its own DOCKER_CONFIG, no hints, and env.
func (d *Daemon) RunDocker(t testing.TB, stdin io.Reader, env []string, args ...string) Result {
	t.Helper()
	base := []string{"HOME=" + d.Dir, "DOCKER_HOST=unix://" + d.Sock, "DOCKER_CONFIG=" + d.DockerConfig(), "DOCKER_CLI_HINTS=false"}
	return Run(t, stdin, append(base, env...), "docker", args...)
}

// Succeeded fails the test unless r, what program args did, exited 0;
// it returns r.Stdout.
func (r Result) Succeeded(t testing.TB, program string, args []string) string {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", program, strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Failed fails the test unless r, what program args did, exited
// non-zero; it returns r.Stderr.
func (r Result) Failed(t testing.TB, program string, args []string) string {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("%s %s: exit 0, want failure\nstdout: %s", program, strings.Join(args, " "), r.Stdout)
	}
	return r.Stderr
}
