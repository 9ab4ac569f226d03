package containers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/shim"
)

// ExecStart runs an exec, as POST /exec/{id}/start: detached, it returns
// once the process runs; else open (as for Attach) takes over the
// connection and the exec's stdio is relayed until it exits.
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
	run, err := s.prepareExec(e)
	if err != nil {
		e.finish(nil)
		return err
	}
	var streams AttachStreams
	if !o.Detach {
		if streams, err = open(e.cfg.Tty); err != nil {
			run.cleanup()
			e.finish(nil)
			return err
		}
	}
	if err := run.start(e, o.ConsoleSize); err != nil {
		run.cleanup()
		code := startExitCode(err)
		e.finish(&code)
		if o.Detach {
			return startError(err)
		}
		out := &outputFilter{w: streams.Out, tty: e.cfg.Tty, stdout: true, stderr: true}
		out.write(shim.Stderr, []byte(err.Error()+"\n"))
		return nil
	}
	s.publish(e.ctr, events.Action("exec_start: "+strings.Join(e.cfg.Cmd, " ")), map[string]string{"execID": e.id})
	if o.Detach {
		s.background(func() { s.execDone(e, run, run.relay(context.Background(), e, AttachStreams{})) })
		return nil
	}
	code := run.relay(ctx, e, streams)
	s.execDone(e, run, code)
	return nil
}

// execRun is an exec's runtime process and its plumbing.
type execRun struct {
	cmd      *exec.Cmd
	files    []string // process.json, pid file, runtime log, console socket
	logPath  string
	pidPath  string
	console  *net.UnixListener
	stdin    *os.File // our end of the process's stdin
	stdout   *os.File
	stderr   *os.File
	theirs   []*os.File // the process's ends, closed once it started
	master   *os.File
	attachIn bool
	// waitDone is closed when the runtime exited, with *waitErr.
	waitDone chan struct{}
	waitErr  *error
}

// prepareExec writes the process and sets up its stdio.
func (s *Service) prepareExec(e *execInst) (_ *execRun, err error) {
	p, err := s.execProcess(e)
	if err != nil {
		return nil, err
	}
	e.ctr.mu.Lock()
	runtimeName := e.ctr.rec.HostConfig.Runtime
	e.ctr.mu.Unlock()
	runtimePath, err := s.o.Runtime(runtimeName)
	if err != nil {
		return nil, err
	}
	dir := s.shimDir(e.ctr.id)
	tag := e.id[:6]
	r := &execRun{logPath: filepath.Join(dir, "exec-"+tag+".log"), pidPath: filepath.Join(dir, "exec-"+tag+".pid"),
		attachIn: e.cfg.AttachStdin}
	procPath := filepath.Join(dir, "exec-"+tag+".json")
	r.files = []string{procPath, r.logPath, r.pidPath}
	defer func() {
		if err != nil {
			r.cleanup()
		}
	}()
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode exec process: %w", err)
	}
	if err := os.WriteFile(procPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	args := []string{"--root", s.runtimeRoot(), "--log", r.logPath, "exec", "--process", procPath, "--pid-file", r.pidPath}
	r.cmd = exec.Command(runtimePath)
	if e.cfg.Tty {
		sock := filepath.Join(dir, "x"+tag+".sock")
		r.files = append(r.files, sock)
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("exec: console socket: %w", err)
		}
		r.console = l
		args = append(args, "--console-socket", sock)
	} else {
		if err := r.pipes(); err != nil {
			return nil, err
		}
	}
	r.cmd.Args = append(append([]string{runtimePath}, args...), e.ctr.id)
	return r, nil
}

// pipes makes the stdio pipes of a process without a terminal.
func (r *execRun) pipes() error {
	var ends [3][2]*os.File
	for i := range ends {
		pr, pw, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("exec: pipe: %w", err)
		}
		ends[i] = [2]*os.File{pr, pw}
	}
	r.stdin, r.stdout, r.stderr = ends[0][1], ends[1][0], ends[2][0]
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = ends[0][0], ends[1][1], ends[2][1]
	r.theirs = []*os.File{ends[0][0], ends[1][1], ends[2][1]}
	if !r.attachIn {
		r.stdin.Close() // the process reads EOF
		r.stdin = nil
	}
	return nil
}

// start runs the runtime and, with a terminal, receives the pty master.
func (r *execRun) start(e *execInst, size *[2]uint) error {
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	for _, f := range r.theirs {
		f.Close()
	}
	exited := make(chan struct{})
	waitErr := new(error)
	go func() { *waitErr = r.cmd.Wait(); close(exited) }()
	if r.console != nil {
		m, err := acceptConsole(r.console, exited)
		if err != nil {
			<-exited
			return r.failure(err)
		}
		r.master = m
		if size != nil {
			setWinsize(m, uint16(size[0]), uint16(size[1]))
		}
	}
	pid, err := waitPidFile(r.pidPath, exited)
	if err != nil {
		<-exited
		return r.failure(*waitErr)
	}
	e.mu.Lock()
	e.state.running, e.state.pid, e.state.master = true, pid, r.master
	e.mu.Unlock()
	r.waitDone, r.waitErr = exited, waitErr
	return nil
}

// failure is the runtime's own error (from its log) when it failed before
// the process ran.
func (r *execRun) failure(err error) error {
	if msg := runtimeLogError(r.logPath); msg != "" {
		return fmt.Errorf("exec failed: %s", msg)
	}
	if err == nil {
		err = errors.New("the runtime exited before the process started")
	}
	return fmt.Errorf("exec failed: %w", err)
}

// relay copies stdio until the process exits and returns its exit code.
func (r *execRun) relay(ctx context.Context, e *execInst, streams AttachStreams) int {
	out := &outputFilter{w: streams.Out, tty: e.cfg.Tty, stdout: e.cfg.AttachStdout, stderr: e.cfg.AttachStderr}
	var wmu sync.Mutex
	write := func(stream byte, data []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		if out.w == nil {
			return
		}
		if out.write(stream, data) != nil {
			out.w = nil // the client went away: drain into nothing
		}
	}
	var outputs sync.WaitGroup
	pump := func(src *os.File, stream byte) {
		defer outputs.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				write(stream, buf[:n])
			}
			if err != nil {
				return
			}
		}
	}
	if r.master != nil {
		outputs.Add(1)
		go pump(r.master, shim.Stdout)
	} else {
		outputs.Add(2)
		go pump(r.stdout, shim.Stdout)
		go pump(r.stderr, shim.Stderr)
	}
	detached := make(chan struct{})
	if streams.In != nil && r.attachIn {
		go func() {
			var dst io.Writer = r.master
			if r.master == nil {
				dst = r.stdin
			}
			err := copyDetach(dst, streams.In, e.keys)
			if errors.Is(err, ErrDetached) {
				close(detached)
				return
			}
			if r.stdin != nil {
				r.stdin.Close() // the process reads EOF
			}
		}()
	}
	select {
	case <-r.waitDone:
	case <-ctx.Done():
		// berthd shuts down: an exec cannot outlive it (its stdio goes
		// through berthd), so it ends now.
		e.mu.Lock()
		pid := e.state.pid
		e.mu.Unlock()
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		<-r.waitDone
	case <-detached:
		// The client leaves; the process runs on, its output drained.
		wmu.Lock()
		out.w = nil
		wmu.Unlock()
		<-r.waitDone
	}
	// Output still in the pipes comes out; a daemon the exec left behind
	// that keeps them open does not hold the answer for long.
	done := make(chan struct{})
	go func() { outputs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	code := 0
	if err := *r.waitErr; err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return 128
		}
		code = ee.ExitCode()
		if code < 0 {
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
	}
	return code
}

// execDone records the end of an exec and cleans up after it.
func (s *Service) execDone(e *execInst, r *execRun, code int) {
	r.cleanup()
	e.finish(&code)
	s.publish(e.ctr, events.Action("exec_die"), map[string]string{"execID": e.id, "exitCode": strconv.Itoa(code)})
}

// finish marks the exec ended.
func (e *execInst) finish(code *int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.running = false
	e.state.exitCode = code
	e.state.master = nil
	e.state.ended = time.Now()
}

// cleanup closes our ends and removes the exec's files.
func (r *execRun) cleanup() {
	for _, f := range append([]*os.File{r.stdin, r.stdout, r.stderr, r.master}, r.theirs...) {
		if f != nil {
			f.Close()
		}
	}
	if r.console != nil {
		r.console.Close()
	}
	for _, p := range r.files {
		os.Remove(p)
	}
}

// startExitCode is dockerd's exit code for an exec that could not start:
// 127 command not found, 126 not executable, else 126.
func startExitCode(err error) int {
	msg := err.Error()
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
		return 127
	}
	return 126
}

// waitPidFile waits for the runtime to write the exec's pid.
func waitPidFile(path string, exited <-chan struct{}) (int, error) {
	read := func() int {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return pid
	}
	for {
		if pid := read(); pid > 0 {
			return pid, nil
		}
		select {
		case <-exited:
			// A process that ended at once: its pid is written all the
			// same.
			if pid := read(); pid > 0 {
				return pid, nil
			}
			return 0, errors.New("the runtime exited before the process started")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// runtimeLogError is the last error the runtime logged.
func runtimeLogError(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	last := ""
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	// The text format is `time=... level=error msg="..."`: keep the
	// message.
	if _, msg, ok := strings.Cut(last, `msg="`); ok {
		if m, err := strconv.Unquote(`"` + msg); err == nil {
			return m
		}
		return strings.TrimSuffix(msg, `"`)
	}
	return last
}
