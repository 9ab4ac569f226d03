package reaper

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestExitStatus: berth-init exits as its child did, 128+N for a death by
// signal N, 127/126 for a command it cannot find or run, 2 on bad usage.
func TestExitStatus(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(notExec, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		want    int
		wantErr string // what berth-init says on stderr
	}{
		{"zero", []string{"true"}, 0, ""},
		{"three", []string{"sh", "-c", "exit 3"}, 3, ""},
		{"after --", []string{"--", "sh", "-c", "exit 5"}, 5, ""},
		{"-g", []string{"-g", "--", "sh", "-c", "exit 6"}, 6, ""},
		{"SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, ""},
		{"SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, ""},
		{"not found", []string{"/nonexistent/cmd"}, 127, "berth-init: /nonexistent/cmd: No such file or directory\n"},
		{"not in PATH", []string{"berth-init-no-such-command"}, 127, "berth-init: berth-init-no-such-command: No such file or directory\n"},
		{"dash after --", []string{"--", "-cmd"}, 127, "berth-init: -cmd: No such file or directory\n"},
		{"not executable", []string{notExec}, 126, "berth-init: " + notExec + ": Permission denied\n"},
		{"no command", nil, 2, usage},
		{"only --", []string{"--"}, 2, usage},
		{"unknown option", []string{"-x", "true"}, 2, usage},
		{"help", []string{"-h"}, 0, usage},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				p := start(t, m, nil, c.args...)
				p.stdin.Close()
				if got := p.wait(); got != c.want {
					t.Errorf("berth-init %q: got exit %d, want %d", c.args, got, c.want)
				}
				if got := p.errors(); got != c.wantErr {
					t.Errorf("berth-init %q: got stderr %q, want %q", c.args, got, c.wantErr)
				}
			})
		}
	}
}

const usage = "berth-init: usage: berth-init [-g] [--] CMD [ARG...]\n"

// TestSignalsForwarded sends berth-init each catchable signal in turn and
// checks that its child, in a process group of its own, got it.
func TestSignalsForwarded(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := start(t, m, []string{helperEnv + "=signals"}, "--", self)
			var pid, pgid int
			if l := p.line(); func() bool { _, err := fmt.Sscanf(l, "ready %d %d", &pid, &pgid); return err != nil }() {
				t.Fatalf("helper said %q, want \"ready PID PGID\"", l)
			}
			if pgid != pid {
				t.Errorf("child's process group: got %d, want its own (%d)", pgid, pid)
			}
			for _, s := range forwarded {
				if err := syscall.Kill(p.cmd.Process.Pid, s); err != nil {
					t.Fatal(err)
				}
				if got, want := p.line(), strconv.Itoa(int(s)); got != want {
					t.Fatalf("after %v to berth-init: child got %q, want %s (exit %d, stderr %q)", s, got, want, p.wait(), p.errors())
				}
			}
			if got := p.wait(); got != 7 {
				t.Errorf("exit after SIGTERM: got %d, want the child's 7", got)
			}
		})
	}
}

// TestZombiesReaped orphans grandchildren, which the kernel reparents to
// berth-init (as PID 1 or as a child subreaper), and checks that each is
// reaped when it exits: none is left as a zombie.
func TestZombiesReaped(t *testing.T) {
	const n = 5
	script := fmt.Sprintf("for i in $(seq %d); do (sleep 2 &); (sh -c '(sleep 2 &)' &); done; echo ready; read x || exit 0", n)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := start(t, m, nil, "sh", "-c", script)
			if got := p.line(); got != "ready" {
				t.Fatalf("got %q, want ready", got)
			}
			init := p.cmd.Process.Pid
			// Each subshell exited before "ready": their sleeps are
			// berth-init's now (the nested ones once their sh exits).
			adopted := 0
			deadline := time.Now().Add(10 * time.Second)
			for {
				kids := children(init)
				sleeps, zombies := 0, 0
				for _, k := range kids {
					if k.comm == "sleep" {
						sleeps++
					}
					if k.state == 'Z' {
						zombies++
					}
				}
				adopted = max(adopted, sleeps)
				if sleeps == 0 && zombies == 0 && adopted > 0 {
					if len(kids) != 1 || kids[0].comm != "sh" {
						t.Errorf("berth-init's children: got %v, want the sh alone", kids)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 10 s berth-init still has children %v (want only sh, no zombie)", kids)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if adopted < n {
				t.Errorf("orphaned sleeps seen under berth-init at once: got %d, want at least %d", adopted, n)
			}
			p.stdin.Close()
			if got := p.wait(); got != 0 {
				t.Errorf("exit: got %d, want 0", got)
			}
		})
	}
}

// TestGroup: with -g a signal reaches the child's whole process group;
// without, the child alone.
func TestGroup(t *testing.T) {
	for _, c := range []struct {
		name       string
		args       []string
		sleepLives bool
	}{
		{"child alone", nil, true},
		{"-g", []string{"-g"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args, "--", "sh", "-c", "sleep 100 & echo started; wait")
			p := start(t, modes[0], nil, args...)
			if got := p.line(); got != "started" {
				t.Fatalf("got %q, want started", got)
			}
			sleep := findSleep(t, p.cmd.Process.Pid)
			t.Cleanup(func() { syscall.Kill(sleep, syscall.SIGKILL) })
			syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
			if got := p.wait(); got != 128+15 {
				t.Errorf("exit: got %d, want 143", got)
			}
			if got := alive(sleep, 5*time.Second, c.sleepLives); got != c.sleepLives {
				t.Errorf("sleep in the child's group alive after SIGTERM: got %v, want %v", got, c.sleepLives)
			}
		})
	}
}

// findSleep returns the pid of the sleep under berth-init's child sh.
func findSleep(t *testing.T, init int) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, sh := range children(init) {
			for _, k := range children(sh.pid) {
				if k.comm == "sleep" {
					return k.pid
				}
			}
		}
	}
	t.Fatal("no sleep under berth-init's child")
	return 0
}

// alive reports whether pid runs (not a zombie). Waiting for the
// expected answer up to d, since a killed process takes a moment to go.
func alive(pid int, d time.Duration, expect bool) bool {
	check := func() bool {
		tk, err := readTask(pid)
		return err == nil && tk.state != 'Z'
	}
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if check() == expect {
			return expect
		}
	}
	return check()
}

// TestTerminal: with a terminal on stdin, the child's process group is
// the terminal's foreground one, so it can read it and gets ^C.
func TestTerminal(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if m.flags != 0 {
				testutil.RequireRoot(t) // for the PID namespace
			}
			master, slave := testutil.OpenPty(t)
			cmd := exec.Command(initBinary, "--", self)
			cmd.Env = append(os.Environ(), helperEnv+"=tty")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Cloneflags: m.flags, Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
				<-done
			})
			lines := make(chan string, 1)
			go func() {
				s, _ := bufio.NewReader(master).ReadString('\n')
				lines <- strings.TrimSpace(s)
			}()
			var line string
			select {
			case line = <-lines:
			case <-time.After(10 * time.Second):
				t.Fatal("no output on the terminal in 10 s")
			}
			var pgrp, fg int
			if _, err := fmt.Sscanf(line, "pgrp %d fg %d", &pgrp, &fg); err != nil {
				t.Fatalf("helper said %q", line)
			}
			initPid := cmd.Process.Pid
			if m.flags != 0 {
				initPid = 1
			}
			if fg != pgrp || pgrp == initPid {
				t.Errorf("got child's group %d, foreground %d (berth-init %d); want the child's own group in the foreground", pgrp, fg, initPid)
			}
			select {
			case err := <-done:
				done <- err
				if err != nil {
					t.Errorf("berth-init: %v, want exit 0", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("berth-init did not exit")
			}
		})
	}
}

// TestFootprint reports berth-init's size on disk and its memory while
// its child runs (figures for the report; nothing is asserted).
func TestFootprint(t *testing.T) {
	fi, err := os.Stat(initBinary)
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, modes[0], nil, "sh", "-c", "echo ready; exec sleep 100")
	if got := p.line(); got != "ready" {
		t.Fatalf("got %q, want ready", got)
	}
	m := testutil.SmapsRollup(t, p.cmd.Process.Pid)
	t.Logf("berth-init: %d bytes on disk; running: Pss %d KiB, Rss %d KiB, Private_Dirty %d KiB", fi.Size(), m["Pss"], m["Rss"], m["Private_Dirty"])
	syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	if got := p.wait(); got != 128+15 {
		t.Errorf("exit after SIGTERM: got %d, want 143", got)
	}
}
