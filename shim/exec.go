package shim

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
)

// ExecOptions describe one exec: a process the shim starts in its
// container beside init, and supervises as it does init (see doc.go).
type ExecOptions struct {
	ID       string // letters and digits, at most 64
	Process  []byte // the OCI process (JSON), as the runtime's exec --process reads it
	Meta     []byte // kept beside the exec for its owner (ExecState.Meta); nil for none
	Terminal bool   // a pty (Process must say terminal too)
	Stdin    bool   // the exec's stdin is the connection's input; else /dev/null
	// Rows and Cols size the pty before the process reads it (0 = leave).
	Rows, Cols uint16
}

// ExitFrame is the stream number of the exec connection's last frame,
// whose payload is the exit code in decimal.
const ExitFrame = 3

var execID = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// Exec files in the state directory: x-ID.json (the process), x-ID.meta
// (the owner's), x-ID.pid (the runtime writes it), x-ID.exit (the shim,
// once the exec ended).
func execFile(dir, id, ext string) string { return filepath.Join(dir, "x-"+id+"."+ext) }

// ExecConn is a running exec's stdio: writes go to its stdin (when it has
// one); Relay reads its output and, last, its exit code.
type ExecConn struct {
	c   *net.UnixConn
	r   *bufio.Reader
	Pid int
}

// Exec starts an exec. The process runs once Exec returns; an error is
// the runtime's (command not found...) and leaves only the exec's files,
// which RemoveExec removes.
func (s *Shim) Exec(ctx context.Context, o ExecOptions) (*ExecConn, error) {
	if !execID.MatchString(o.ID) {
		return nil, fmt.Errorf("exec %q: the id must be 1 to 64 letters and digits: %w", o.ID, errdefs.ErrInvalidArgument)
	}
	if err := os.WriteFile(execFile(s.dir, o.ID, "json"), o.Process, 0o600); err != nil {
		return nil, fmt.Errorf("exec in container %s: %w", s.info.ID, err)
	}
	if o.Meta != nil {
		if err := os.WriteFile(execFile(s.dir, o.ID, "meta"), o.Meta, 0o600); err != nil {
			return nil, fmt.Errorf("exec in container %s: %w", s.info.ID, err)
		}
	}
	flags := ""
	if o.Terminal {
		flags += "t"
	}
	if o.Stdin {
		flags += "i"
	}
	if flags == "" {
		flags = "-"
	}
	c, err := s.dial(ctx, ctlSocket)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReader(c)
	line, err := s.request(c, r, fmt.Sprintf("exec %s %s %d %d", o.ID, flags, o.Rows, o.Cols))
	if err == nil {
		var pid int
		if pid, err = strconv.Atoi(strings.TrimPrefix(line, "ok ")); err == nil && pid > 0 {
			return &ExecConn{c: c, r: r, Pid: pid}, nil
		}
		err = fmt.Errorf("exec in container %s: unexpected answer from shim: %q", s.info.ID, line)
	}
	c.Close()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("exec in container %s: %w", s.info.ID, ctx.Err())
	}
	if err != nil && err.Error() == "bad request: unknown command" {
		// A shim started by a berthd from before execs went through it.
		return nil, fmt.Errorf("the shim of container %s is too old to run execs; restart the container: %w", s.info.ID, errdefs.ErrNotImplemented)
	}
	return nil, err
}

// request sends one line and reads the one-line answer: the "ok..." line,
// or the shim's error.
func (s *Shim) request(c *net.UnixConn, r *bufio.Reader, req string) (string, error) {
	verb, _, _ := strings.Cut(req, " ")
	if _, err := c.Write([]byte(req + "\n")); err != nil {
		return "", s.callErr(context.Background(), verb, err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", s.callErr(context.Background(), verb, err)
	}
	line = strings.TrimSuffix(line, "\n")
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return "", fmt.Errorf("%s", msg)
	}
	return line, nil
}

// ExecResize sets the size of a running exec's pty.
func (s *Shim) ExecResize(ctx context.Context, id string, rows, cols uint16) error {
	if !execID.MatchString(id) {
		return fmt.Errorf("exec %q: bad id: %w", id, errdefs.ErrInvalidArgument)
	}
	return s.call(ctx, fmt.Sprintf("exec-resize %s %d %d", id, rows, cols))
}

// ExecKill sends sig to a running exec's process.
func (s *Shim) ExecKill(ctx context.Context, id string, sig syscall.Signal) error {
	if !execID.MatchString(id) {
		return fmt.Errorf("exec %q: bad id: %w", id, errdefs.ErrInvalidArgument)
	}
	return s.call(ctx, fmt.Sprintf("exec-kill %s %d", id, int(sig)))
}

// Write writes to the exec's stdin.
func (e *ExecConn) Write(p []byte) (int, error) { return e.c.Write(p) }

// CloseStdin closes the exec's stdin once what was written before has
// reached it.
func (e *ExecConn) CloseStdin() error { return e.c.CloseWrite() }

// Close hangs up; the exec runs on.
func (e *ExecConn) Close() error { return e.c.Close() }

// Relay copies the exec's output (stdout also carries a pty's) until it
// exits, and returns its exit code. errdefs.ErrUnknown when the shim hung
// up without one (the container's init exited while the exec ran outside
// its pid namespace; see ReadExecExit). A write error of stdout or
// stderr stops the copying, not the reading.
func (e *ExecConn) Relay(stdout, stderr io.Writer) (int, error) {
	var hdr [8]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(e.r, hdr[:]); err != nil {
			return 0, fmt.Errorf("exec %d: the shim hung up before the exit: %w", e.Pid, errdefs.ErrUnknown)
		}
		n := int(binary.BigEndian.Uint32(hdr[4:]))
		if hdr[0] == ExitFrame {
			if n > 16 {
				return 0, fmt.Errorf("exec %d: exit frame of %d bytes: %w", e.Pid, n, errdefs.ErrDataLoss)
			}
			num := make([]byte, n)
			if _, err := io.ReadFull(e.r, num); err != nil {
				return 0, fmt.Errorf("exec %d: read the exit: %w", e.Pid, errdefs.ErrUnknown)
			}
			code, err := strconv.Atoi(string(num))
			if err != nil || code < 0 || code > 255 {
				return 0, fmt.Errorf("exec %d: exit %q: %w", e.Pid, num, errdefs.ErrDataLoss)
			}
			return code, nil
		}
		w := stdout
		switch hdr[0] {
		case Stdout:
		case Stderr:
			w = stderr
		default:
			return 0, fmt.Errorf("exec %d: frame of stream %d: %w", e.Pid, hdr[0], errdefs.ErrDataLoss)
		}
		for n > 0 {
			k, err := e.r.Read(buf[:min(n, len(buf))])
			if k > 0 && w != nil {
				if _, werr := w.Write(buf[:k]); werr != nil {
					if hdr[0] == Stdout {
						stdout = nil
					} else {
						stderr = nil
					}
					w = nil
				}
			}
			n -= k
			if err != nil {
				return 0, fmt.Errorf("exec %d: the shim hung up before the exit: %w", e.Pid, errdefs.ErrUnknown)
			}
		}
	}
}

// ExecExit is how an exec ended, as the shim recorded it.
type ExecExit struct {
	Pid      int       `json:"pid"`
	Code     int       `json:"exit_code"`
	Signal   int       `json:"signal"`
	ExitedAt time.Time `json:"exited_at"`
}

// ExecState is what the state directory holds of one exec, for a berthd
// that restarted.
type ExecState struct {
	ID   string
	Meta []byte
	Pid  int       // 0 if the runtime did not write it (the exec did not start)
	Exit *ExecExit // nil while it runs (or if the shim died first)
}

// Execs lists the execs whose files are in the state directory.
func (s *Shim) Execs() ([]ExecState, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("execs of container %s: %w", s.info.ID, err)
	}
	var out []ExecState
	for _, e := range ents {
		id, ok := strings.CutPrefix(e.Name(), "x-")
		if id, ok = strings.CutSuffix(id, ".json"); !ok || !execID.MatchString(id) {
			continue
		}
		st := ExecState{ID: id}
		st.Meta, _ = os.ReadFile(execFile(s.dir, id, "meta"))
		if data, err := os.ReadFile(execFile(s.dir, id, "pid")); err == nil {
			st.Pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		}
		if x, err := ReadExecExit(s.dir, id); err == nil {
			st.Exit = &x
		}
		out = append(out, st)
	}
	return out, nil
}

// ReadExecExit reads an exec's exit record; errdefs.ErrNotFound while
// there is none.
func ReadExecExit(dir, id string) (ExecExit, error) {
	data, err := os.ReadFile(execFile(dir, id, "exit"))
	if errors.Is(err, os.ErrNotExist) {
		return ExecExit{}, fmt.Errorf("exec %s: no exit status: %w", id, errdefs.ErrNotFound)
	}
	if err != nil {
		return ExecExit{}, err
	}
	return decodeExecExit(data)
}

func decodeExecExit(data []byte) (ExecExit, error) {
	var x ExecExit
	if err := json.Unmarshal(data, &x); err != nil {
		return ExecExit{}, fmt.Errorf("decode exec exit: %w: %w", err, errdefs.ErrDataLoss)
	}
	if x.Pid <= 0 || x.Code < 0 || x.Code > 255 || x.Signal < 0 || x.Signal > 64 || x.ExitedAt.IsZero() {
		return ExecExit{}, fmt.Errorf("exec exit: pid, code, signal or time out of range: %w", errdefs.ErrDataLoss)
	}
	return x, nil
}

// RemoveExec removes an exec's files.
func (s *Shim) RemoveExec(id string) {
	if !execID.MatchString(id) {
		return
	}
	for _, ext := range []string{"json", "meta", "pid", "exit"} {
		os.Remove(execFile(s.dir, id, ext))
	}
}
