package engine_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestInit: docker run --init puts berth-init at PID 1 (bound read-only
// at /sbin/berth-init), which forwards docker stop's SIGTERM to the
// command, reaps orphans, and exits with the command's status.
func TestInit(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	out := d.OK("run", "--rm", "--init", img, "ps", "-o", "pid,args")
	if got := pid1(out); got != "/sbin/berth-init -- ps -o pid,args" {
		t.Errorf("docker run --init ps: got PID 1 %q, want berth-init running ps\n%s", got, out)
	}
	out = d.OK("run", "--rm", img, "ps", "-o", "pid,args")
	if got := pid1(out); got != "ps -o pid,args" {
		t.Errorf("docker run ps: got PID 1 %q, want ps itself\n%s", got, out)
	}

	for _, c := range []struct {
		script string
		want   int
	}{
		{"exit 7", 7},
		// A shell that is not PID 1 dies of its own SIGTERM.
		{"kill -TERM $$", 128 + 15},
	} {
		if r := d.Docker("run", "--rm", "--init", img, "sh", "-c", c.script); r.Code != c.want {
			t.Errorf("docker run --init sh -c %q: got exit %d (stderr %q), want %d", c.script, r.Code, r.Stderr, c.want)
		}
	}
	if r := d.Docker("run", "--rm", "--init", img, "no-such-command"); r.Code != 127 || !strings.Contains(r.Stderr, "no-such-command: No such file or directory") {
		t.Errorf("docker run --init no-such-command: got exit %d, stderr %q; want 127 and berth-init's error", r.Code, r.Stderr)
	}
	if got := d.OK("run", "--rm", "--init", img, "sh", "-c", "echo x > /sbin/berth-init 2>/dev/null && echo writable || echo read-only"); got != "read-only\n" {
		t.Errorf("writing /sbin/berth-init in the container: got %q, want read-only", got)
	}

	// Orphans are reparented to berth-init and reaped: after they exit,
	// no process of the container is a zombie.
	out = d.OK("run", "--rm", "--init", img, "sh", "-c",
		"for i in 1 2 3 4 5; do (sleep 0.2 &); done; sleep 1.5; cat /proc/[0-9]*/stat")
	for _, l := range lines(out) {
		if f := strings.Fields(l[strings.LastIndexByte(l, ')')+1:]); len(f) > 0 && f[0] == "Z" {
			t.Errorf("zombie left in a --init container: %s", l)
		}
	}

	// docker stop's SIGTERM reaches sleep through berth-init: it dies of
	// it (143), where a bare sleep at PID 1 ignores it until the SIGKILL.
	d.OK("run", "-d", "--init", "--name", "sleeper", img, "sleep", "100")
	d.OK("stop", "sleeper")
	if got := d.inspect("sleeper", "{{.State.ExitCode}} {{.HostConfig.Init}}"); got != "143 true" {
		t.Errorf("exit code after docker stop of --init sleep: got %q, want \"143 true\"", got)
	}
}

// TestInitByDefault: berthd --init (daemon.json "init": true) gives every
// container berth-init unless it asks for none with --init=false;
// --init-path names the binary.
func TestInitByDefault(t *testing.T) {
	initPath := filepath.Join(filepath.Dir(berthd), "berth-init")
	d := newCtrDaemon(t, "--init", "--init-path", initPath)
	img := d.Image
	if got := strings.TrimSpace(d.OK("info", "-f", "{{.InitBinary}}")); got != initPath {
		t.Errorf("docker info's InitBinary: got %q, want %q", got, initPath)
	}
	if got := pid1(d.OK("run", "--rm", img, "ps", "-o", "pid,args")); got != "/sbin/berth-init -- ps -o pid,args" {
		t.Errorf("docker run ps under berthd --init: got PID 1 %q, want berth-init", got)
	}
	if got := pid1(d.OK("run", "--rm", "--init=false", img, "ps", "-o", "pid,args")); got != "ps -o pid,args" {
		t.Errorf("docker run --init=false ps under berthd --init: got PID 1 %q, want ps itself", got)
	}
}

// pid1 returns the command line of PID 1 in ps -o pid,args output.
func pid1(ps string) string {
	for _, l := range lines(ps) {
		if pid, args, ok := strings.Cut(strings.TrimSpace(l), " "); ok && pid == "1" {
			return strings.TrimSpace(args)
		}
	}
	return ""
}

// TestInitTerminal: under berth-init, docker run -it's shell owns the
// terminal: its process group (its own, not berth-init's) is the
// terminal's foreground one, so it reads what is typed without being
// stopped, ^C interrupts its foreground job, and its exit code is the
// container's.
func TestInitTerminal(t *testing.T) {
	d := newCtrDaemon(t)
	s := d.dockerOnTerminal("run", "-it", "--rm", "--init", "--name", "tty-init", d.Image, "sh")
	s.expect(`/ # `)
	s.typeText("cat /proc/1/cmdline | tr '\\0' ' '; echo\r")
	s.expect(`\r\n/sbin/berth-init -- sh \r\n`)
	// Fields 5 and 8 of /proc/PID/stat: the process group and the
	// terminal's foreground process group.
	s.typeText(`echo "pgrp=$(cut -d' ' -f5 /proc/$$/stat) fg=$(cut -d' ' -f8 /proc/$$/stat)"` + "\r")
	s.expect(`\r\npgrp=\d+ fg=\d+\r\n`)
	m := regexp.MustCompile(`\r\npgrp=(\d+) fg=(\d+)\r\n`).FindStringSubmatch(s.output())
	if m[1] != m[2] || m[1] == "1" {
		t.Errorf("shell under berth-init: got process group %s, terminal's foreground group %s; want its own group (not 1) in the foreground", m[1], m[2])
	}
	// ^C reaches the foreground job, not berth-init: sleep dies of it.
	s.typeText("sleep 100\r")
	waitFor(t, "sleep to run", 20*time.Second, func() bool {
		return strings.Contains(d.OK("exec", "tty-init", "ps", "-o", "args"), "sleep 100")
	})
	s.typeText("\x03")
	s.expect(`\^C\r\n/ # `)
	s.typeText("echo status=$?\r")
	s.expect(`\r\nstatus=130\r\n`)
	s.typeText("exit 3\r")
	if code := s.wait(); code != 3 {
		t.Errorf("docker run -it --init sh, exit 3: got exit %d, terminal %q", code, s.output())
	}
}
