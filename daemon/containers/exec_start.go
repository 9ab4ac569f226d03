package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/shim"
)

// ExecStart runs an exec, as POST /exec/{id}/start: detached, it returns
// once the process runs; else open (as for Attach) takes over the
// connection and the exec's stdio is relayed until it exits or the client
// detaches. When ctx ends first the process is killed (a healthcheck's
// timeout, a client that went away); a detached exec runs on, under the
// container's shim, even if berthd does not.
func (s *Service) ExecStart(ctx context.Context, id string, o ExecStartOptions, open func(tty bool) (AttachStreams, error)) error {
	e, err := s.exec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.state.started {
		e.mu.Unlock()
		return errorf(errdefs.ErrConflict, "Error: Exec command %s has already run", id)
	}
	e.state.started = true
	e.mu.Unlock()
	if err := e.ctr.execAllowed(); err != nil {
		return err
	}
	e.ctr.mu.Lock()
	sh := e.ctr.sh
	e.ctr.mu.Unlock()
	if sh == nil {
		e.finish(nil)
		return errorf(errdefs.ErrConflict, "container %s is not running", e.ctr.id)
	}
	xo, err := s.execOptions(e, o)
	if err != nil {
		e.finish(nil)
		return err
	}
	var streams AttachStreams
	if !o.Detach {
		if streams, err = open(e.cfg.Tty); err != nil {
			e.finish(nil)
			return err
		}
	}
	xc, err := sh.Exec(ctx, xo)
	if err != nil {
		sh.RemoveExec(e.id)
		err = fmt.Errorf("exec failed: %w", err)
		code := startExitCode(err)
		e.finish(&code)
		if o.Detach {
			return startError(err)
		}
		out := &outputFilter{w: streams.Out, tty: e.cfg.Tty, stdout: true, stderr: true}
		out.write(shim.Stderr, []byte(err.Error()+"\n"))
		return nil
	}
	e.mu.Lock()
	e.state.running, e.state.pid, e.state.sh = true, xc.Pid, sh
	e.mu.Unlock()
	s.publish(e.ctr, events.Action("exec_start: "+strings.Join(e.cfg.Cmd, " ")), map[string]string{"execID": e.id})
	out := &execOutput{f: outputFilter{w: streams.Out, tty: e.cfg.Tty, stdout: e.cfg.AttachStdout, stderr: e.cfg.AttachStderr}}
	done := make(chan struct{})
	if !s.background(func() { defer close(done); s.superviseExec(e, sh, xc, out) }) {
		xc.Close()
		return nil
	}
	if o.Detach {
		return nil
	}
	detached := make(chan struct{})
	if streams.In != nil && e.cfg.AttachStdin {
		go func() {
			if err := copyDetach(xc, streams.In, e.keys); errors.Is(err, ErrDetached) {
				close(detached)
				return
			}
			if !e.cfg.Tty {
				xc.CloseStdin() // the process reads EOF after all it was sent
			}
		}()
	}
	select {
	case <-done:
	case <-detached:
		out.detach() // the process runs on, its output dropped
	case <-ctx.Done():
		out.detach()
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		sh.ExecKill(kctx, e.id, syscall.SIGKILL)
		select {
		case <-done:
		case <-kctx.Done():
		}
	}
	return nil
}

// execOptions builds what the shim needs to start the exec: the process
// and, for a berthd that restarts meanwhile, the exec's request.
func (s *Service) execOptions(e *execInst, o ExecStartOptions) (shim.ExecOptions, error) {
	p, err := s.execProcess(e)
	if err != nil {
		return shim.ExecOptions{}, err
	}
	if e.cfg.Tty && o.ConsoleSize != nil {
		// The runtime sizes the pty before the process runs: a resize
		// after the start would come too late for a quick stty size.
		p.ConsoleSize = &specs.Box{Height: o.ConsoleSize[0], Width: o.ConsoleSize[1]}
	}
	proc, err := json.Marshal(p)
	if err != nil {
		return shim.ExecOptions{}, fmt.Errorf("encode exec process: %w", err)
	}
	meta, err := json.Marshal(execMeta{Config: e.cfg})
	if err != nil {
		return shim.ExecOptions{}, fmt.Errorf("encode exec request: %w", err)
	}
	xo := shim.ExecOptions{ID: e.id, Process: proc, Meta: meta, Terminal: e.cfg.Tty, Stdin: e.cfg.AttachStdin && !o.Detach}
	if o.ConsoleSize != nil {
		xo.Rows, xo.Cols = uint16(o.ConsoleSize[0]), uint16(o.ConsoleSize[1])
	}
	return xo, nil
}

// superviseExec relays the exec's output until it exits and records the
// exit. If the connection ends first (berthd shuts down, or the shim went
// away), the exit is read from the shim's record instead.
func (s *Service) superviseExec(e *execInst, sh *shim.Shim, xc *shim.ExecConn, out *execOutput) {
	stop := context.AfterFunc(s.ctx, func() { xc.Close() })
	defer stop()
	code, err := xc.Relay(out.stream(shim.Stdout), out.stream(shim.Stderr))
	xc.Close()
	if err != nil {
		if s.ctx.Err() == nil {
			s.awaitExecExit(e, sh)
		}
		return
	}
	s.execDone(e, code)
}

// awaitExecExit waits for the shim's record of the exec's exit, while the
// container runs: for an exec restored after a restart of berthd, or one
// whose connection broke.
func (s *Service) awaitExecExit(e *execInst, sh *shim.Shim) {
	for {
		if x, err := shim.ReadExecExit(sh.StateDir(), e.id); err == nil {
			s.execDone(e, x.Code)
			return
		}
		e.ctr.mu.Lock()
		gone := e.ctr.sh != sh
		e.ctr.mu.Unlock()
		if gone {
			// The container ended and its state went with it: the exec
			// ended too, how is not known.
			e.finish(nil)
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// execMeta is what berthd keeps beside an exec in the shim's state, to
// find it again after a restart.
type execMeta struct {
	Config container.ExecCreateRequest `json:"config"`
}

// execDone records the end of an exec.
func (s *Service) execDone(e *execInst, code int) {
	e.finish(&code)
	s.publish(e.ctr, events.Action("exec_die"), map[string]string{"execID": e.id, "exitCode": strconv.Itoa(code)})
}

// finish marks the exec ended.
func (e *execInst) finish(code *int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.running = false
	e.state.exitCode = code
	e.state.ended = time.Now()
}

// startExitCode is dockerd's exit code for an exec that could not start:
// 127 command not found, 126 not executable, else 126.
func startExitCode(err error) int {
	if startFailureCode(err) == 127 {
		return 127
	}
	return 126
}

// execOutput is the client's side of an exec's output; after a detach it
// drops what comes.
type execOutput struct {
	mu sync.Mutex
	f  outputFilter
}

func (o *execOutput) detach() {
	o.mu.Lock()
	o.f.w = nil
	o.mu.Unlock()
}

func (o *execOutput) stream(n byte) *execStream { return &execStream{o: o, n: n} }

type execStream struct {
	o *execOutput
	n byte
}

func (w *execStream) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if w.o.f.w == nil {
		return len(p), nil
	}
	if err := w.o.f.write(w.n, p); err != nil {
		w.o.f.w = nil // the client went away: drain into nothing
	}
	return len(p), nil
}
