package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Default log rotation, as berth's json-file driver documents it.
const (
	DefaultLogMaxSize  = 10 << 20
	DefaultLogMaxFiles = 3
)

// Files in the state directory.
const (
	infoFile   = "shim.json"   // while the shim runs
	exitFile   = "exit.json"   // once the container has exited
	ctlSocket  = "ctl.sock"    // requests: start, kill, resize, close-stdin
	attachSock = "attach.sock" // live output, stdin
)

// Options describe one container's shim.
type Options struct {
	Binary      string // the berth-shim program
	Runtime     string // OCI runtime with runc's command line (berth-runtime)
	RuntimeRoot string // the runtime's --root; "" for its default
	ID          string // container id
	Bundle      string // OCI bundle directory
	StateDir    string // exec-root/containers/<id>: sockets, shim.json, exit.json
	LogPath     string // json-file log
	LogMaxSize  int64  // rotate at this many bytes; 0 means DefaultLogMaxSize, < 0 never
	LogMaxFiles int    // files kept, the current one included; 0 means DefaultLogMaxFiles
	Terminal    bool   // give the container a pty (process.terminal must be set in the bundle)
	Stdin       bool   // keep the container's stdin open for attach clients
	// StdinOnce closes the container's stdin (after all it was sent) when
	// an attach client closes its input for writing, as Docker's
	// StdinOnce; only without a terminal.
	StdinOnce bool
}

// Shim is a handle on a container's shim, started by this process or
// found again with Open; it holds no open resource.
type Shim struct {
	dir  string
	info info
}

// info is shim.json, written by the shim once the container is created.
type info struct {
	ID        string `json:"id"`
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"start_time"` // of the shim, in clock ticks since boot (/proc/PID/stat field 22)
	InitPid   int    `json:"init_pid"`
	Terminal  bool   `json:"terminal"`
	Stdin     bool   `json:"stdin"`
}

// ID is the container's id.
func (s *Shim) ID() string { return s.info.ID }

// Pid is the shim's pid; 0 when the shim had already exited at Open.
func (s *Shim) Pid() int { return s.info.Pid }

// InitPid is the pid of the container's init process.
func (s *Shim) InitPid() int { return s.info.InitPid }

// Terminal reports whether the container has a pty.
func (s *Shim) Terminal() bool { return s.info.Terminal }

// StateDir is the shim's state directory.
func (s *Shim) StateDir() string { return s.dir }

func (o *Options) check() error {
	for _, f := range []struct{ name, val string }{
		{"binary", o.Binary}, {"runtime", o.Runtime}, {"bundle", o.Bundle},
		{"state dir", o.StateDir}, {"log path", o.LogPath},
	} {
		if !filepath.IsAbs(f.val) {
			return fmt.Errorf("shim for container %s: %s %q is not an absolute path: %w", o.ID, f.name, f.val, errdefs.ErrInvalidArgument)
		}
	}
	if o.ID == "" {
		return fmt.Errorf("shim: no container id: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

func (o *Options) args() []string {
	size, files := o.LogMaxSize, o.LogMaxFiles
	if size == 0 {
		size = DefaultLogMaxSize
	}
	if files == 0 {
		files = DefaultLogMaxFiles
	}
	args := []string{"--id", o.ID, "--bundle", o.Bundle, "--runtime", o.Runtime,
		"--state-dir", o.StateDir, "--log-path", o.LogPath,
		"--log-max-size", strconv.FormatInt(size, 10), "--log-max-files", strconv.Itoa(files),
		"--sync-fd", "3"}
	if o.RuntimeRoot != "" {
		args = append(args, "--runtime-root", o.RuntimeRoot)
	}
	if o.Terminal {
		args = append(args, "--tty")
	}
	if o.Stdin {
		args = append(args, "--stdin")
		if o.StdinOnce && !o.Terminal {
			args = append(args, "--stdin-once")
		}
	}
	return args
}

// Start starts a shim that creates the container (runtime create) and
// returns once it is created, or with the runtime's error; then the
// container waits for (*Shim).Start. A failed Start leaves no shim, no
// runtime state, no sockets, and no state directory if it made it. If ctx
// ends first, the shim notices that nobody listens and undoes the create.
func Start(ctx context.Context, o Options) (_ *Shim, err error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if _, statErr := os.Stat(o.StateDir); errors.Is(statErr, os.ErrNotExist) {
		if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("shim for container %s: %w", o.ID, err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(o.StateDir)
			}
		}()
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("shim for container %s: sync pipe: %w", o.ID, err)
	}
	defer r.Close()
	cmd := exec.Command(o.Binary, o.args()...)
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("shim for container %s: %w", o.ID, err)
	}
	// The first process forks the shim and exits at once (see doc.go).
	waitErr := cmd.Wait()
	line, err := readSync(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("shim for container %s: %w", o.ID, err)
	}
	switch {
	case strings.HasPrefix(line, "ok "):
		return Open(o.StateDir)
	case strings.HasPrefix(line, "error "):
		return nil, fmt.Errorf("create container %s: %s", o.ID, strings.TrimPrefix(line, "error "))
	case waitErr != nil:
		return nil, fmt.Errorf("shim for container %s: %s: %w", o.ID, o.Binary, waitErr)
	default:
		return nil, fmt.Errorf("shim for container %s exited without reporting (%q)", o.ID, line)
	}
}

// readSync reads the shim's one-line report; closing the pipe on
// cancellation is what tells the shim to undo.
func readSync(ctx context.Context, r *os.File) (string, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(io.LimitReader(r, 8192))
		done <- result{data, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return "", fmt.Errorf("read sync pipe: %w", res.err)
		}
		return strings.TrimSuffix(string(res.data), "\n"), nil
	case <-ctx.Done():
		r.Close()
		<-done
		return "", ctx.Err()
	}
}

// Open finds the shim of the container whose state directory is dir, for a
// berthd that restarted. It succeeds while the shim runs and after it
// recorded the exit; errdefs.ErrNotFound when there is neither.
func Open(dir string) (*Shim, error) {
	s := &Shim{dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, infoFile))
	if err == nil {
		if s.info, err = decodeInfo(data); err != nil {
			return nil, fmt.Errorf("shim state %s: %w", dir, err)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("shim state %s: %w", dir, err)
	}
	st, err := ReadExit(dir)
	if err != nil {
		return nil, err
	}
	s.info = info{ID: st.ID, InitPid: st.Pid}
	return s, nil
}

func decodeInfo(data []byte) (info, error) {
	var in info
	if err := json.Unmarshal(data, &in); err != nil {
		return info{}, fmt.Errorf("decode %s: %w: %w", infoFile, err, errdefs.ErrDataLoss)
	}
	if in.ID == "" || in.Pid <= 0 || in.InitPid <= 0 {
		return info{}, fmt.Errorf("%s: id, pid or init pid missing: %w", infoFile, errdefs.ErrDataLoss)
	}
	return in, nil
}
