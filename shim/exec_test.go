package shim

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// execProcess is a process for an exec in e's container.
func (e *env) execProcess(tty bool, args ...string) []byte {
	e.t.Helper()
	p := specs.Process{Args: args, Cwd: "/", Env: []string{"PATH=/bin"}, Terminal: tty}
	if tty {
		p.ConsoleSize = &specs.Box{Height: 21, Width: 77}
	}
	data, err := json.Marshal(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}

// TestExec runs execs beside init: output on both streams and the exit
// code, stdin read to its end before EOF, a terminal, a refused command,
// the exit records, and an exec killed through the shim.
func TestExec(t *testing.T) {
	e := newEnv(t, "sleep", "1000")
	ctx := testCtx(t)
	s := e.start(ctx)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		args           []string
		tty, stdin     bool
		in             string
		stdout, stderr string
		code           int
	}{
		{name: "streams", args: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, stdout: "out\n", stderr: "err\n", code: 7},
		{name: "stdin", args: []string{"sh", "-c", "cat; echo done"}, stdin: true, in: strings.Repeat("x", 200000), stdout: strings.Repeat("x", 200000) + "done\n"},
		{name: "tty", args: []string{"sh", "-c", "stty size; exit 3"}, tty: true, stdout: "21 77\r\n", code: 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "x" + strings.Repeat("0", i) + "1"
			xc, err := s.Exec(ctx, ExecOptions{ID: id, Process: e.execProcess(tc.tty, tc.args...), Meta: []byte(`{"n":1}`), Terminal: tc.tty, Stdin: tc.stdin})
			if err != nil {
				t.Fatal(err)
			}
			defer xc.Close()
			if tc.stdin {
				go func() {
					io.Copy(xc, strings.NewReader(tc.in))
					xc.CloseStdin()
				}()
			}
			var stdout, stderr bytes.Buffer
			code, err := xc.Relay(&stdout, &stderr)
			if err != nil || code != tc.code || stdout.String() != tc.stdout || stderr.String() != tc.stderr {
				t.Errorf("got code %d (%v), stdout %.40q (%d bytes), stderr %q; want %d, %.40q, %q", code, err, stdout.String(), stdout.Len(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
			x, err := ReadExecExit(s.StateDir(), id)
			if err != nil || x.Code != tc.code || x.Pid != xc.Pid {
				t.Errorf("exit record: got %+v, %v; want code %d pid %d", x, err, tc.code, xc.Pid)
			}
		})
	}

	if _, err := s.Exec(ctx, ExecOptions{ID: "missing", Process: e.execProcess(false, "no-such-command")}); err == nil || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("exec of a missing command: got %v, want the runtime's error", err)
	}
	if _, err := s.Exec(ctx, ExecOptions{ID: "../x", Process: e.execProcess(false, "true")}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("exec id ../x: got %v, want invalid argument", err)
	}

	xc, err := s.Exec(ctx, ExecOptions{ID: "long", Process: e.execProcess(false, "sleep", "1000")})
	if err != nil {
		t.Fatal(err)
	}
	states, err := s.Execs()
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, st := range states {
		if st.Exit == nil && st.Pid > 0 {
			running++
			if st.ID != "long" || st.Pid != xc.Pid {
				t.Errorf("running exec: got %s pid %d, want long pid %d", st.ID, st.Pid, xc.Pid)
			}
		}
	}
	if running != 1 || len(states) < 4 {
		t.Errorf("Execs: got %d (%d running), want at least 4 with one running", len(states), running)
	}
	if err := s.ExecKill(ctx, "long", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := xc.Relay(nil, nil); err != nil || code != 137 {
		t.Errorf("killed exec: got %d, %v; want 137", code, err)
	}
	for _, st := range states {
		s.RemoveExec(st.ID)
	}
	s.Kill(ctx, syscall.SIGKILL, false)
	e.wait(s)
}

// TestExecOutlivesClient: an exec whose connection goes away runs on,
// and its exit is recorded.
func TestExecOutlivesClient(t *testing.T) {
	e := newEnv(t, "sleep", "1000")
	ctx := testCtx(t)
	s := e.start(ctx)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	xc, err := s.Exec(ctx, ExecOptions{ID: "gone", Process: e.execProcess(false, "sh", "-c", "read x; echo $x; exit 4"), Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	xc.Close() // stdin stays open: the exec still waits
	time.Sleep(200 * time.Millisecond)
	if _, err := ReadExecExit(s.StateDir(), "gone"); !errdefs.IsNotFound(err) {
		t.Fatalf("exec after its client left: got %v, want it running", err)
	}
	syscall.Kill(xc.Pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, err := ReadExecExit(s.StateDir(), "gone")
		if err == nil {
			if x.Code != 128+int(syscall.SIGTERM) || x.Signal != int(syscall.SIGTERM) {
				t.Errorf("exit record: got %+v, want SIGTERM", x)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no exit record")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.RemoveExec("gone")
	s.Kill(ctx, syscall.SIGKILL, false)
	e.wait(s)
}

// TestStdinOnce: with StdinOnce, a client that closes its input for
// writing closes the container's stdin after all it sent.
func TestStdinOnce(t *testing.T) {
	e := newEnv(t, "sh", "-c", "sleep 0.3; wc -c")
	e.opts.Stdin, e.opts.StdinOnce = true, true
	ctx := testCtx(t)
	s, c := e.startAttached(ctx)
	in := strings.Repeat("y", 1<<20)
	go func() {
		io.Copy(c, strings.NewReader(in))
		c.CloseWrite()
	}()
	if stream, got := readFrame(t, c); stream != Stdout || strings.TrimSpace(got) != "1048576" {
		t.Errorf("wc -c: got stream %d %q, want 1048576", stream, got)
	}
	if st := e.wait(s); st.Code != 0 {
		t.Errorf("exit code %d, want 0", st.Code)
	}
}
