package engine_test

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRunStdinOnce: docker run -i closes the container's stdin when the
// client's input ends, after every byte of it was delivered, every time.
func TestRunStdinOnce(t *testing.T) {
	d := newCtrDaemon(t)
	for i := range 20 {
		r := d.DockerIn(strings.NewReader("hi\n"), "run", "--rm", "-i", d.Image, "cat")
		if r.Code != 0 || r.Stdout != "hi\n" {
			t.Fatalf("run %d of echo hi | docker run -i cat: got exit %d, stdout %q, stderr %q", i, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := d.DockerIn(strings.NewReader("line\n"), "run", "--rm", "-i", d.Image, "sh", "-c", "cat; echo done")
	if r.Code != 0 || r.Stdout != "line\ndone\n" {
		t.Errorf("docker run -i sh -c 'cat; echo done': got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// More than the pipes hold, to a reader that starts late: nothing is
	// lost before the EOF.
	big := strings.Repeat("0123456789abcdef", 1<<16)
	r = d.DockerIn(strings.NewReader(big), "run", "--rm", "-i", d.Image, "sh", "-c", "sleep 1; wc -c")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1048576" {
		t.Errorf("docker run -i with 1 MiB to a late reader: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestReattach: detaching from docker run -it and from docker attach
// (ctrl-p ctrl-q) leaves the shell running, and each later attach
// delivers typed input to it.
func TestReattach(t *testing.T) {
	d := newCtrDaemon(t)
	s := d.dockerOnTerminal("run", "-it", "--name", "shell", d.Image, "sh")
	s.expect(`# `)
	s.waitRaw()
	s.typeText("\x10\x11")
	if code := s.wait(); code != 0 {
		t.Fatalf("detach from docker run -it: got exit %d, terminal %q", code, s.output())
	}
	for _, word := range []string{"one", "two"} {
		s = d.dockerOnTerminal("attach", "shell")
		// Typed before the CLI made the terminal raw, ctrl-q would be
		// flow control for the test's own terminal.
		s.waitRaw()
		s.typeText("echo $((40+2))" + word + "\r")
		s.expect(`42` + word + `\r\n`)
		s.typeText("\x10\x11")
		s.wait() // docker attach exits 1 on a detach, as with dockerd
		if got := d.inspect("shell", "{{.State.Status}}"); got != "running" {
			t.Fatalf("after detaching from attach %s: container is %s", word, got)
		}
	}
	s = d.dockerOnTerminal("attach", "shell")
	s.waitRaw()
	s.typeText("exit 6\r")
	if code := s.wait(); code != 6 {
		t.Errorf("docker attach, exit 6: got exit %d, terminal %q", code, s.output())
	}
}

// waitRaw waits until the docker CLI has put its terminal in raw mode
// (the master reads the slave's settings).
func (s *terminalSession) waitRaw() {
	s.t.Helper()
	raw, err := s.master.SyscallConn() // not Fd(): it would make reads blocking
	if err != nil {
		s.t.Fatal(err)
	}
	waitFor(s.t, "the terminal to be raw", 20*time.Second, func() bool {
		var tio *unix.Termios
		raw.Control(func(fd uintptr) { tio, err = unix.IoctlGetTermios(int(fd), unix.TCGETS) })
		return err == nil && tio.Lflag&unix.ICANON == 0
	})
}
