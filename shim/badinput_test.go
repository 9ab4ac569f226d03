package shim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// A failed create reports the runtime's own message and leaves nothing:
// no shim, no runtime state, no sockets, no state dir that Start made.
func TestCreateFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(e *env)
		want   string
		preDir bool // the state dir exists before Start
	}{
		{"no config.json", func(e *env) { os.Remove(filepath.Join(e.bundle.Dir, "config.json")) }, "config.json not found", false},
		{"no config.json, dir kept", func(e *env) { os.Remove(filepath.Join(e.bundle.Dir, "config.json")) }, "config.json not found", true},
		{"no rootfs", func(e *env) { os.RemoveAll(e.bundle.Rootfs) }, "rootfs", false},
		{"runtime missing", func(e *env) { e.opts.Runtime = "/nonexistent/runtime" }, "could not execute /nonexistent/runtime", false},
		{"bad id", func(e *env) { e.opts.ID = "../escape" }, "--id", false},
		{"socket path too long", func(e *env) { e.opts.StateDir = filepath.Join(e.opts.StateDir, strings.Repeat("d", 100)) }, "longer than 107 bytes", false},
		{"log dir missing", func(e *env) { e.opts.LogPath = "/nonexistent/dir/log.json" }, "open log /nonexistent/dir/log.json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "true")
			e.bundle.Save(t)
			tc.mod(e)
			if tc.preDir {
				if err := os.MkdirAll(e.opts.StateDir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Start(testCtx(t), e.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), e.opts.ID) {
				t.Fatalf("Start: got %v, want an error naming %s and saying %q", err, e.opts.ID, tc.want)
			}
			ents, statErr := os.ReadDir(e.opts.StateDir)
			if tc.preDir && (statErr != nil || len(ents) != 0) {
				t.Errorf("state dir: got %v, %v, want it empty", ents, statErr)
			}
			if !tc.preDir && !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("state dir: got %v, %v, want it gone", ents, statErr)
			}
			if ents, _ := os.ReadDir(e.opts.RuntimeRoot); len(ents) != 0 {
				t.Errorf("runtime root holds %v, want nothing", ents)
			}
			if _, err := os.Stat(e.opts.LogPath); err == nil {
				t.Errorf("log %s exists after a failed create", e.opts.LogPath)
			}
			if pids := procsMentioning(e.opts.StateDir); len(pids) > 0 {
				t.Errorf("processes %v still mention %s", pids, e.opts.StateDir)
			}
		})
	}
}

func TestStartOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{},
		{Binary: "shim", Runtime: "/r", Bundle: "/b", StateDir: "/s", LogPath: "/l", ID: "x"},
		{Binary: "/shim", Runtime: "/r", Bundle: "/b", StateDir: "/s", LogPath: "/l"},
	} {
		if _, err := Start(context.Background(), o); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Start(%+v): got %v, want invalid argument", o, err)
		}
	}
}

// Garbage on the control socket gets an error answer, and the shim goes on.
func TestControlBadInput(t *testing.T) {
	e := newEnv(t, "true")
	ctx := testCtx(t)
	s := e.start(ctx)
	c, err := net.Dial("unix", filepath.Join(e.opts.StateDir, ctlSocket))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for _, tc := range []struct{ req, want string }{
		{"bogus", "error bad request: unknown command"},
		{"", "error bad request: unknown command"},
		{"kill", "error bad request: unknown command"},
		{"kill 0", "error bad request: kill SIGNUM [all]"},
		{"kill 65", "error bad request: kill SIGNUM [all]"},
		{"kill 9 some", "error bad request: kill SIGNUM [all]"},
		{"kill -9", "error bad request: kill SIGNUM [all]"},
		{"kill 99999999999999999999", "error bad request: kill SIGNUM [all]"},
		{"resize 1", "error bad request: resize ROWS COLS"},
		{"resize 70000 1", "error bad request: resize ROWS COLS"},
		{"resize 24 80", "error container has no terminal to resize"},
		{"exec", "error bad request: unknown command"},
		{"exec x", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec ../x - 0 0", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec x - 70000 0", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec x tiii 0 0", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec x - 0 0 extra", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec " + strings.Repeat("a", 65) + " - 0 0", "error bad request: exec ID FLAGS ROWS COLS"},
		{"exec-resize x 1", "error bad request: exec-resize ID ROWS COLS"},
		{"exec-resize x 24 80", "error exec x has no terminal to resize"},
		{"exec-kill x 0", "error bad request: exec-kill ID SIGNUM"},
		{"exec-kill x 9", "error exec x is not running"},
		{"start\x00", "error bad request: NUL in the line"},
	} {
		if _, err := c.Write([]byte(tc.req + "\n")); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != tc.want+"\n" {
			t.Errorf("%q: got %q, %v, want %q", tc.req, got, err, tc.want)
		}
	}
	c.Write([]byte(strings.Repeat("x", 300)))
	if got, _ := r.ReadString('\n'); got != "error bad request: line too long\n" {
		t.Errorf("long line: got %q, want line too long", got)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start after bad input: %v", err)
	}
	if st := e.wait(s); st.Code != 0 {
		t.Errorf("exit code: got %d, want 0", st.Code)
	}
	// The container is gone: requests say so.
	if err := s.Kill(ctx, syscall.SIGTERM, false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Kill after exit: got %v, want not found", err)
	}
	if _, err := s.Attach(ctx); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Attach after exit: got %v, want not found", err)
	}
}

// The runtime's message comes back when start fails.
func TestStartTwice(t *testing.T) {
	e := newEnv(t, "sleep", "1000")
	ctx := testCtx(t)
	s := e.start(ctx)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "start container "+e.opts.ID) {
		t.Fatalf("second Start: got %v, want the runtime's refusal naming the container", err)
	}
	t.Logf("second start: %v", err)
	s.Kill(ctx, syscall.SIGKILL, false)
	e.wait(s)
}

func TestOpenNothing(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Open(empty dir): got %v, want not found", err)
	}
}

// A second shim for a state directory that a live shim serves is refused
// and disturbs nothing of the first.
func TestSecondShimRefused(t *testing.T) {
	e := newEnv(t, "sh", "-c", "read x; echo $x")
	e.opts.Stdin = true
	ctx := testCtx(t)
	s := e.start(ctx)
	second := e.opts
	second.ID += "-b"
	_, err := Start(ctx, second)
	if err == nil || !strings.Contains(err.Error(), "a shim already serves") {
		t.Fatalf("second Start: got %v, want a refusal", err)
	}
	if ents, _ := os.ReadDir(e.opts.RuntimeRoot); len(ents) != 1 {
		t.Errorf("runtime root holds %v, want the first container only", ents)
	}
	c, err := s.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("still here\n"))
	if _, got := readFrame(t, c); got != "still here\n" {
		t.Errorf("first container after the refusal: got %q, want the echo", got)
	}
	e.wait(s)
}

// A starter that goes away before the shim reports (berthd killed during
// create, or Start's context cancelled) leaves nothing: the shim undoes.
func TestStarterGoneBeforeReport(t *testing.T) {
	e := newEnv(t, "true")
	e.bundle.Save(t)
	if err := os.MkdirAll(e.opts.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody will read the report
	// The shim keeps an inherited fd 4 until it exits: EOF on its pipe
	// says the shim is gone.
	gone, alive, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	cmd := exec.Command(shimBinary, e.opts.args()...)
	cmd.ExtraFiles = []*os.File{w, alive}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	alive.Close()
	gone.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := gone.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("waiting for the shim to exit: %v", err)
	}
	if ents, _ := os.ReadDir(e.opts.StateDir); len(ents) != 0 {
		t.Errorf("state dir holds %v, want nothing", ents)
	}
	if ents, _ := os.ReadDir(e.opts.RuntimeRoot); len(ents) != 0 {
		t.Errorf("runtime root holds %v, want nothing", ents)
	}
	if _, err := os.Stat(e.opts.LogPath); err == nil {
		t.Errorf("log %s left behind", e.opts.LogPath)
	}
}
