package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// The size of the terminals the tests open, which the container must see.
const termRows, termCols = 33, 101

// newTerminal opens a pseudo-terminal pair of termRows x termCols.
func newTerminal(t *testing.T) (master, slave *os.File) {
	return testutil.OpenPtySize(t, termRows, termCols)
}

// terminalSession is the docker CLI running on a terminal of its own.
type terminalSession struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	copied chan struct{}
}

// dockerOnTerminal starts the docker CLI as the session leader of a new
// terminal, as if typed at a shell.
func (d *ctrDaemon) dockerOnTerminal(args ...string) *terminalSession {
	d.t.Helper()
	master, slave := newTerminal(d.t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	d.t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + d.dir, "DOCKER_HOST=unix://" + d.Sock,
		"DOCKER_CONFIG=" + d.config, "DOCKER_CLI_HINTS=false", "TERM=xterm"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start docker on a terminal: %v", err)
	}
	slave.Close()
	s := &terminalSession{t: d.t, cmd: cmd, master: master, copied: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil && err != io.EOF && !os.IsTimeout(err) || err == io.EOF {
				break
			}
			if os.IsTimeout(err) {
				break
			}
		}
		close(s.copied)
	}()
	return s
}

// output is what the terminal showed so far.
func (s *terminalSession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the terminal shows text matching re.
func (s *terminalSession) expect(re string) {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	waitFor(s.t, fmt.Sprintf("the terminal to show %q (it shows %q)", re, s.output()), 20*time.Second, func() bool {
		return rx.MatchString(s.output())
	})
}

// typeText types at the terminal.
func (s *terminalSession) typeText(text string) {
	s.t.Helper()
	if _, err := s.master.WriteString(text); err != nil {
		s.t.Fatalf("type at the terminal: %v", err)
	}
}

// wait waits for the docker CLI to exit and returns its exit code.
func (s *terminalSession) wait() int {
	s.cmd.Wait()
	select {
	case <-s.copied:
	case <-time.After(2 * time.Second):
		s.master.SetReadDeadline(time.Now())
		<-s.copied
	}
	return s.cmd.ProcessState.ExitCode()
}

// TestInteractive: docker run -it on a terminal (the size, the tty, typed
// input, the exit code), detaching with ctrl-p ctrl-q and attaching again,
// and docker attach with stdin piped.
func TestInteractive(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	s := d.dockerOnTerminal("run", "-it", "--rm", img, "sh", "-c",
		`i=0; s=$(stty size); while [ "$s" = "0 0" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); s=$(stty size); done
echo "size $s"; tty; read line; echo "typed <$line>"; exit 4`)
	s.expect(fmt.Sprintf(`size %d %d\r\n/dev/pts/\d+\r\n`, termRows, termCols))
	s.typeText("hello there\r")
	if code := s.wait(); code != 4 || !strings.Contains(s.output(), "typed <hello there>") {
		t.Errorf("docker run -it: got exit %d, terminal %q; want 4 and the typed line", code, s.output())
	}

	// Detach with ctrl-p ctrl-q, attach again, exit.
	s = d.dockerOnTerminal("run", "-it", "--name", "shell", img, "sh")
	s.expect(`/ # `)
	s.typeText("echo first\r")
	s.expect(`first\r\n`)
	s.typeText("\x10\x11")
	if code := s.wait(); code != 0 {
		t.Errorf("detach from docker run -it: got exit %d, terminal %q", code, s.output())
	}
	if got := d.inspect("shell", "{{.State.Status}}"); got != "running" {
		t.Fatalf("after detaching: container is %s, want running", got)
	}
	s = d.dockerOnTerminal("attach", "shell")
	// The attach resizes the terminal; the shell redraws its prompt.
	s.expect(`/ # `)
	s.typeText("echo second; exit 6\r")
	if code := s.wait(); code != 6 || !strings.Contains(s.output(), "second") {
		t.Errorf("docker attach: got exit %d, terminal %q; want 6 and the echo", code, s.output())
	}

	// docker attach with input from a pipe.
	d.OK("run", "-d", "-i", "--name", "reader", img, "sh", "-c", "read x; echo got $x; exit 2")
	r := d.DockerIn(strings.NewReader("piped\n"), "attach", "reader")
	if r.Code != 2 || r.Stdout != "got piped\n" {
		t.Errorf("docker attach with stdin piped: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
