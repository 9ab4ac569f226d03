package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// pty opens a pseudo-terminal pair with a 30x120 window: the master the
// test reads and writes, and the slave berth gets as its terminal.
func pty(t *testing.T) (master, slave *os.File) { return testutil.OpenPtySize(t, 30, 120) }

// onTerminal runs berth with a terminal for its standard streams and
// returns what the terminal showed and the exit status. input is typed
// once the output contains waitFor.
func (d *daemon) onTerminal(t *testing.T, waitFor, input string, args ...string) (string, int) {
	t.Helper()
	master, slave := pty(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, berth, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "BERTH_HOST=unix://" + d.Sock, "BERTH_CONFIG=" + d.Config}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	if input != "" {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			ready := strings.Contains(out.String(), waitFor)
			mu.Unlock()
			if ready {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("berth %s: %q never showed; the terminal has:\n%q", strings.Join(args, " "), waitFor, out.String())
			}
		}
		master.Write([]byte(input))
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("berth %s: timed out; the terminal has:\n%q", strings.Join(args, " "), out.String())
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return out.String(), code
}

// TestTerminal: save refuses to write an archive to a terminal; a
// container with a tty and stdin gets the keys typed and the terminal's
// size, and run exits with its status.
func TestTerminal(t *testing.T) {
	d := containerDaemon(t)
	if out, code := d.onTerminal(t, "", "", "save", "bb"); code != 1 || !strings.Contains(out, "cowardly refusing to save to a terminal") {
		t.Errorf("berth save to a terminal: exit %d, %q", code, out)
	}
	out, code := d.onTerminal(t, "# ", "echo $((6*7)); stty size; exit 5\r", "run", "-it", "--rm", "bb", "sh")
	if code != 5 || !strings.Contains(out, "42\r\n") || !strings.Contains(out, "30 120") {
		t.Errorf("berth run -it: exit %d, terminal:\n%q", code, out)
	}
	// Detaching leaves the container running.
	out, code = d.onTerminal(t, "# ", "\x10\x11", "run", "-it", "--name", "detachme", "bb", "sh")
	if code != 0 {
		t.Errorf("berth run -it, then ctrl-p ctrl-q: exit %d, terminal:\n%q", code, out)
	}
	if got := strings.TrimSpace(d.OK("inspect", "-f", "{{.State.Running}}", "detachme")); got != "true" {
		t.Errorf("after detaching, running: got %q", got)
	}
}
