package interop_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// Every terminal the tests open has this size, so a container can show
// that the engine passed it on (stty size prints "rows cols").
const ptyRows, ptyCols = 30, 100

// runPTY runs a program as the session leader of a new pseudo-terminal, as
// if typed at a shell, and returns what it wrote to the terminal (with the
// terminal's \r\n line ends) and its exit code.
func runPTY(t *testing.T, name string, args ...string) result {
	t.Helper()
	return typePTY(t, "", name, args...)
}

// typePTY is runPTY with input typed at the terminal once the program runs.
func typePTY(t *testing.T, input, name string, args ...string) result {
	t.Helper()
	master, slave := openPTY(t)
	cmd := command(t, name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	slave.Close()
	if input != "" {
		// The terminal buffers it until the program (or the container,
		// through the engine) reads.
		if _, err := master.WriteString(input); err != nil {
			t.Errorf("type at the terminal: %v", err)
		}
	}
	var buf bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// Ends with EIO once no process holds the terminal open.
		io.Copy(&buf, master)
		close(copied)
	}()
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	cmd.Wait()
	timedOut := !timer.Stop()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
		// A daemon the program started kept the terminal: take what was
		// written so far.
		master.SetReadDeadline(time.Now())
		<-copied
	}
	if timedOut {
		t.Fatalf("%s %s under a pty: timed out; output %q", name, strings.Join(args, " "), buf.String())
	}
	return result{stdout: buf.String(), code: cmd.ProcessState.ExitCode()}
}

// openPTY opens a new pseudo-terminal pair of size ptyRows x ptyCols.
func openPTY(t *testing.T) (master, slave *os.File) { return testutil.OpenPtySize(t, ptyRows, ptyCols) }

// ttyScript is the command a container runs on a terminal: it reports the
// terminal's size and name and exits 3, so a test sees that the engine
// passed the size, the console and the exit code through. ctr sizes the
// console only after the process started, so the size is polled for, five
// seconds at most (busybox stty size prints nothing while it is 0x0).
var ttyScript = []string{"sh", "-c", `test -t 0 && test -t 1 || exit 1
i=0; s=$(stty size 2>/dev/null)
while { [ -z "$s" ] || [ "$s" = "0 0" ]; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); s=$(stty size 2>/dev/null); done
echo "$s"; readlink /proc/self/fd/0; exit 3`}

// checkTTY checks the output of ttyScript run under runPTY; ttyName is a
// regular expression for the terminal's name inside the container.
func checkTTY(t *testing.T, res result, ttyName string) {
	t.Helper()
	// \r\r\n: an engine that leaves its own terminal cooked adds a \r to
	// the container's terminal's \r\n.
	want := fmt.Sprintf(`^%d %d\r+\n%s\r+\n$`, ptyRows, ptyCols, ttyName)
	if res.code != 3 || !regexp.MustCompile(want).MatchString(res.stdout) {
		t.Errorf("on a terminal: got %s; want exit 3 and output matching %q", res, want)
	}
}

// shellInput is typed at an interactive shell in a container: a line that
// only its execution prints, then an exit code.
const shellInput = "echo ty''ped\nexit 4\n"

// checkShell checks the terminal output of a shell that read shellInput.
func checkShell(t *testing.T, res result) {
	t.Helper()
	if res.code != 4 || !regexp.MustCompile(`(?m)^typed\r*$`).MatchString(res.stdout) {
		t.Errorf("interactive shell: got %s; want exit 4 and a line \"typed\"", res)
	}
}
