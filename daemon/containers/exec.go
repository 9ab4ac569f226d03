package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/shim"
)

// An exec is a process run in a running container beside its init, as
// docker exec does. The container's shim starts it (the runtime's exec
// --detach), holds its stdio and records its exit (package shim), so an
// exec outlives berthd as the container does: berthd relays its stdio over
// a connection to the shim, and a restarted berthd finds the execs of its
// running containers again in the shims' state (restoreExecs).

// execKeep is how long a finished exec stays inspectable.
const execKeep = 5 * time.Minute

// execInst is one exec instance.
type execInst struct {
	id    string
	ctr   *ctr
	cfg   container.ExecCreateRequest
	keys  []byte
	mu    sync.Mutex
	state execState
}

type execState struct {
	started, running bool
	exitCode         *int
	pid              int
	sh               *shim.Shim // the shim that runs it, once started
	ended            time.Time
}

// ExecStartOptions are the body of POST /exec/{id}/start.
type ExecStartOptions struct {
	Detach      bool
	ConsoleSize *[2]uint
}

// ExecCreate registers an exec in a running container, as POST
// /containers/{id}/exec, and returns its ID.
func (s *Service) ExecCreate(ctx context.Context, ref string, req container.ExecCreateRequest) (string, error) {
	c, err := s.get(ref)
	if err != nil {
		return "", err
	}
	if len(req.Cmd) == 0 {
		return "", errorf(errdefs.ErrInvalidArgument, "No exec command specified")
	}
	keys, err := parseDetachKeys(req.DetachKeys)
	if err != nil {
		return "", err
	}
	if err := c.execAllowed(); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate exec id: %w", err)
	}
	e := &execInst{id: hex.EncodeToString(b[:]), ctr: c, cfg: req, keys: keys}
	s.mu.Lock()
	s.gcExecs()
	s.execs[e.id] = e
	s.mu.Unlock()
	s.publish(c, events.Action("exec_create: "+strings.Join(req.Cmd, " ")), map[string]string{"execID": e.id})
	return e.id, nil
}

// execAllowed refuses an exec in a container that does not run, with
// dockerd's messages.
func (c *ctr) execAllowed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.rec.State.Status == container.StatePaused:
		return errorf(errdefs.ErrConflict, "container %s is paused, unpause the container before exec", c.id)
	case c.sh == nil || c.rec.State.Status != container.StateRunning:
		return errorf(errdefs.ErrConflict, "container %s is not running", c.id)
	}
	return nil
}

// gcExecs forgets the execs that ended long ago or whose container is
// gone; the caller holds s.mu.
func (s *Service) gcExecs() {
	for id, e := range s.execs {
		e.mu.Lock()
		old := !e.state.ended.IsZero() && time.Since(e.state.ended) > execKeep
		e.mu.Unlock()
		if old || s.byID[e.ctr.id] == nil {
			delete(s.execs, id)
			e.removeFiles()
		}
	}
}

// removeFiles removes the record of an ended exec from the shim's state.
func (e *execInst) removeFiles() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state.sh != nil && !e.state.running {
		e.state.sh.RemoveExec(e.id)
	}
}

func (s *Service) exec(id string) (*execInst, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.execs[id]
	if !ok {
		return nil, errorf(errdefs.ErrNotFound, "No such exec instance: %s", id)
	}
	return e, nil
}

// execIDs lists the execs of a container, for inspect.
func (s *Service) execIDs(c *ctr) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for id, e := range s.execs {
		if e.ctr == c {
			out = append(out, id)
		}
	}
	return out
}

// ExecInspect describes an exec, as GET /exec/{id}/json.
func (s *Service) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	e, err := s.exec(id)
	if err != nil {
		return container.ExecInspectResponse{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	priv := e.cfg.Privileged
	return container.ExecInspectResponse{
		ID: e.id, Running: e.state.running, ExitCode: e.state.exitCode, Pid: e.state.pid,
		ProcessConfig: &container.ExecProcessConfig{Tty: e.cfg.Tty, Entrypoint: e.cfg.Cmd[0], Arguments: e.cfg.Cmd[1:],
			Privileged: &priv, User: e.cfg.User},
		OpenStdin: e.cfg.AttachStdin, OpenStdout: e.cfg.AttachStdout, OpenStderr: e.cfg.AttachStderr,
		ContainerID: e.ctr.id, DetachKeys: e.keys,
	}, nil
}

// ExecResize sets the size of a running exec's terminal.
func (s *Service) ExecResize(ctx context.Context, id string, height, width uint16) error {
	e, err := s.exec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	running, sh := e.state.running, e.state.sh
	e.mu.Unlock()
	if !running {
		return errorf(errdefs.ErrConflict, "exec %s is not running", id)
	}
	if !e.cfg.Tty {
		return nil
	}
	return sh.ExecResize(ctx, id, height, width)
}

// restoreExecs finds the execs of a container whose shim outlived the
// previous berthd: those still running are watched until they exit, those
// that ended meanwhile show their exit code.
func (s *Service) restoreExecs(c *ctr, sh *shim.Shim) {
	states, err := sh.Execs()
	if err != nil {
		s.log.Warn("find the execs of a restored container", "container", c.id, "error", err)
		return
	}
	for _, st := range states {
		var m execMeta
		if err := json.Unmarshal(st.Meta, &m); err != nil || len(m.Config.Cmd) == 0 {
			sh.RemoveExec(st.ID)
			continue
		}
		keys, _ := parseDetachKeys(m.Config.DetachKeys)
		e := &execInst{id: st.ID, ctr: c, cfg: m.Config, keys: keys}
		e.state = execState{started: true, pid: st.Pid, sh: sh}
		switch {
		case st.Exit != nil:
			code := st.Exit.Code
			e.state.exitCode, e.state.ended = &code, st.Exit.ExitedAt
		case st.Pid > 0:
			e.state.running = true
		default:
			e.state.ended = time.Now() // it never ran
		}
		s.mu.Lock()
		s.execs[e.id] = e
		s.mu.Unlock()
		if e.state.running {
			s.background(func() { s.awaitExecExit(e, sh) })
		}
	}
}

// execProcess builds the exec's OCI process from the container's: its
// user, capabilities, rlimits and environment, with the request's
// command, terminal, environment, working directory and user.
func (s *Service) execProcess(e *execInst) (*specs.Process, error) {
	base, err := e.ctr.proc.get(filepath.Join(s.bundleDir(e.ctr.id), "config.json"))
	if err != nil {
		return nil, fmt.Errorf("exec in container %s: %w", e.ctr.id, err)
	}
	p := *base
	p.Args = append([]string(nil), e.cfg.Cmd...)
	p.Terminal = e.cfg.Tty
	p.ConsoleSize = nil
	p.Env = mergeEnv(p.Env, e.cfg.Env)
	if e.cfg.Tty && !hasEnv(p.Env, "TERM") {
		p.Env = append(p.Env, "TERM=xterm")
	}
	if e.cfg.WorkingDir != "" {
		if !filepath.IsAbs(e.cfg.WorkingDir) {
			return nil, errorf(errdefs.ErrInvalidArgument, "the working directory '%s' is invalid, it needs to be an absolute path", e.cfg.WorkingDir)
		}
		p.Cwd = e.cfg.WorkingDir
	}
	if e.cfg.User != "" {
		u, err := lookupUserInRoot(s.rootfs(e.ctr.id), e.cfg.User)
		if err != nil {
			return nil, err
		}
		p.User = u
	}
	if e.cfg.Privileged && base.Capabilities != nil {
		// Privileged execs get every capability the container's bounding
		// set allows.
		b := base.Capabilities.Bounding
		p.Capabilities = &specs.LinuxCapabilities{Bounding: b, Effective: b, Permitted: b}
	}
	return &p, nil
}

// mergeEnv applies overrides (NAME=VALUE) over base.
func mergeEnv(base, overrides []string) []string {
	out := append([]string(nil), base...)
	for _, o := range overrides {
		k, _, _ := strings.Cut(o, "=")
		replaced := false
		for i, b := range out {
			if bk, _, _ := strings.Cut(b, "="); bk == k {
				out[i], replaced = o, true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}
