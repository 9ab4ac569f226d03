package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/daemon/spec"
)

// defaultStopTimeout is how long stop waits before SIGKILL when neither
// the request nor the container say.
const defaultStopTimeout = 10

// Stop stops a container as POST /containers/{id}/stop: its stop signal
// (or signal), then SIGKILL after timeout seconds (nil: the container's
// own, else 10; -1 waits forever). A container that is not running gives
// errdefs.ErrNotModified.
func (s *Service) Stop(ctx context.Context, ref, signal string, timeout *int) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	return s.stop(ctx, c, signal, timeout, true)
}

// stop is Stop with the operation lock held; byUser marks the container
// stopped by the user, which no restart policy overrides.
func (s *Service) stop(ctx context.Context, c *ctr, signal string, timeout *int, byUser bool) error {
	c.mu.Lock()
	st := c.rec.State.Status
	if byUser && c.rec.State.running() {
		c.rec.Stopped = true
		if err := s.save(c); err != nil {
			s.log.Error("record a stop", "container", c.id, "error", err)
		}
	}
	if signal == "" {
		signal = c.rec.StopSignal
	}
	t := defaultStopTimeout
	if c.rec.Config.StopTimeout != nil {
		t = *c.rec.Config.StopTimeout
	}
	c.mu.Unlock()
	if timeout != nil {
		t = *timeout
	}
	if st == container.StateRestarting {
		s.cancelRestart(c)
		s.publish(c, events.ActionStop, nil)
		return nil
	}
	if st != container.StateRunning && st != container.StatePaused {
		return errorf(errdefs.ErrNotModified, "container already stopped")
	}
	sig, err := spec.ParseSignal(signal)
	if err != nil {
		return err
	}
	// A signal fails when the process ended just before it: then the
	// exit is on its way, and the stop has happened.
	if err := s.signal(ctx, c, sig, false); err != nil && !errdefs.IsNotFound(err) && !s.waitExit(ctx, c, 2) {
		return err
	}
	if !s.waitExit(ctx, c, t) {
		if err := s.signal(ctx, c, syscall.SIGKILL, true); err != nil && !errdefs.IsNotFound(err) && !s.waitExit(ctx, c, 2) {
			return err
		}
		if !s.waitExit(ctx, c, -1) {
			return fmt.Errorf("stop container %s: %w", c.id, ctx.Err())
		}
	}
	s.publish(c, events.ActionStop, nil)
	return nil
}

// state returns a copy of the container's state.
func (c *ctr) state() state {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.State
}

// waitExit waits for the current run to end, at most secs seconds (-1:
// until ctx ends); it reports whether the run ended.
func (s *Service) waitExit(ctx context.Context, c *ctr, secs int) bool {
	c.mu.Lock()
	r, running := c.next, c.sh != nil
	c.mu.Unlock()
	if !running {
		return true
	}
	var timeout <-chan time.Time
	if secs >= 0 {
		t := time.NewTimer(time.Duration(secs) * time.Second)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-r.done:
		return true
	case <-timeout:
		return false
	case <-ctx.Done():
		return false
	}
}

// signal sends sig to the container's init (every process with all) and
// publishes the kill event. A paused container is thawed after a
// SIGKILL, which a frozen process would not act on.
func (s *Service) signal(ctx context.Context, c *ctr, sig syscall.Signal, all bool) error {
	c.mu.Lock()
	sh, paused := c.sh, c.rec.State.Status == container.StatePaused
	c.mu.Unlock()
	if sh == nil {
		return errorf(errdefs.ErrNotFound, "container %s is not running", c.id)
	}
	s.publish(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(int(sig))})
	if err := sh.Kill(ctx, sig, all); err != nil {
		return err
	}
	if paused && sig == syscall.SIGKILL {
		if err := s.runtimeRun(ctx, c, "resume"); err != nil {
			s.log.Warn("thaw a killed container", "container", c.id, "error", err)
		}
	}
	return nil
}

// Kill sends a signal (name or number, default SIGKILL) to a running
// container, as POST /containers/{id}/kill.
func (s *Service) Kill(ctx context.Context, ref, signal string) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	if signal == "" {
		signal = "KILL"
	}
	sig, err := spec.ParseSignal(signal)
	if err != nil {
		return err
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	if st := c.state().Status; st != container.StateRunning && st != container.StatePaused {
		return errorf(errdefs.ErrConflict, "cannot kill container: %s: container %s is not running", ref, c.id)
	}
	if err := s.signal(ctx, c, sig, false); err != nil {
		if errdefs.IsNotFound(err) {
			return errorf(errdefs.ErrConflict, "cannot kill container: %s: container %s is not running", ref, c.id)
		}
		return err
	}
	if sig == syscall.SIGKILL {
		// dockerd returns once a SIGKILL has taken effect.
		s.waitExit(ctx, c, 10)
	}
	return nil
}

// Restart stops a running container (as Stop) and starts it, as POST
// /containers/{id}/restart.
func (s *Service) Restart(ctx context.Context, ref, signal string, timeout *int) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	return s.restart(ctx, c, signal, timeout, false)
}

// restart is Restart with the operation lock held; counted counts the
// new run in the restart count, as a restart by policy (or by
// health-on-failure) does.
func (s *Service) restart(ctx context.Context, c *ctr, signal string, timeout *int, counted bool) error {
	c.mu.Lock()
	c.restarting = true
	c.mu.Unlock()
	err := s.stop(ctx, c, signal, timeout, false)
	c.mu.Lock()
	c.restarting = false
	c.mu.Unlock()
	if err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	if c.state().Status == container.StateRestarting {
		s.cancelRestart(c)
	}
	if err := s.start(ctx, c, counted); err != nil {
		return err
	}
	s.publish(c, events.ActionRestart, nil)
	return nil
}

// Pause freezes every process of a running container.
func (s *Service) Pause(ctx context.Context, ref string) error {
	return s.freeze(ctx, ref, true)
}

// Unpause thaws a paused container.
func (s *Service) Unpause(ctx context.Context, ref string) error {
	return s.freeze(ctx, ref, false)
}

func (s *Service) freeze(ctx context.Context, ref string, pause bool) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	st := c.state().Status
	verb, next, action := "pause", container.StatePaused, events.ActionPause
	switch {
	case pause && st == container.StatePaused:
		return errorf(errdefs.ErrConflict, "container %s is already paused", c.id)
	case pause && st != container.StateRunning:
		return errorf(errdefs.ErrConflict, "container %s is not running", c.id)
	case !pause && st != container.StatePaused:
		return errorf(errdefs.ErrConflict, "container %s is not paused", c.id)
	case !pause:
		verb, next, action = "resume", container.StateRunning, events.ActionUnPause
	}
	if err := s.runtimeRun(ctx, c, verb); err != nil {
		return err
	}
	c.mu.Lock()
	if c.sh != nil {
		c.rec.State.Status = next
		if err := s.save(c); err != nil {
			s.log.Error("record pause state", "container", c.id, "error", err)
		}
	}
	c.mu.Unlock()
	s.updateHealth(c)
	s.publish(c, action, nil)
	return nil
}

// runtimeRun runs a runtime verb on a container (pause, resume,
// delete --force) with the runtime it was created with.
func (s *Service) runtimeRun(ctx context.Context, c *ctr, verb ...string) error {
	c.mu.Lock()
	name := c.rec.HostConfig.Runtime
	c.mu.Unlock()
	return s.runtimeExec(ctx, name, c.id, verb...)
}

func (s *Service) runtimeExec(ctx context.Context, runtimeName, id string, verb ...string) error {
	path, err := s.o.Runtime(runtimeName)
	if err != nil {
		return err
	}
	args := append([]string{"--root", s.runtimeRoot()}, verb...)
	out, err := exec.CommandContext(ctx, path, append(args, id)...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s container %s: %s", strings.Join(verb, " "), id, msg)
	}
	return nil
}

// runtimeDelete removes the runtime's state of a container whose shim
// vanished without cleaning up, if there is any.
func (s *Service) runtimeDelete(ctx context.Context, runtimeName, id string) {
	if _, err := os.Stat(filepath.Join(s.runtimeRoot(), id)); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.runtimeExec(ctx, runtimeName, id, "delete", "--force"); err != nil {
		s.log.Warn("delete runtime state", "container", id, "error", err)
	}
}

// Rename renames a container.
func (s *Service) Rename(ctx context.Context, ref, newName string) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	if newName == "" {
		return errorf(errdefs.ErrInvalidArgument, "Neither old nor new names may be empty")
	}
	n, err := checkName(newName)
	if err != nil {
		return err
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	c.mu.Lock()
	old := c.rec.Name
	c.mu.Unlock()
	if old == n {
		return errorf(errdefs.ErrInvalidArgument, "Renaming a container with the same name as its current name")
	}
	s.mu.Lock()
	if other, ok := s.names[n]; ok {
		s.mu.Unlock()
		return errorf(errdefs.ErrConflict, "Error when allocating new name: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", n, other)
	}
	s.names[n] = c.id
	delete(s.names, old)
	s.mu.Unlock()
	c.mu.Lock()
	c.rec.Name = n
	err = s.save(c)
	if err != nil {
		c.rec.Name = old
	}
	c.mu.Unlock()
	if err != nil {
		s.mu.Lock()
		delete(s.names, n)
		s.names[old] = c.id
		s.mu.Unlock()
		return err
	}
	if s.o.Networks != nil {
		// The record has the new name: a failure here leaves the old DNS
		// name until the next start, which is logged, not returned.
		if err := s.o.Networks.Rename(ctx, c.id, n); err != nil {
			s.log.Warn("rename a container's network endpoints", "container", c.id, "error", err)
		}
	}
	s.publish(c, events.ActionRename, map[string]string{"oldName": "/" + old})
	return nil
}

// Resize sets the size of a running container's terminal.
func (s *Service) Resize(ctx context.Context, ref string, height, width uint16) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	sh := c.sh
	tty := c.rec.Config.Tty
	c.mu.Unlock()
	if sh == nil {
		return errorf(errdefs.ErrConflict, "container %s is not running", c.id)
	}
	if !tty {
		return nil // dockerd ignores a resize without a terminal
	}
	if err := sh.Resize(ctx, height, width); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return errorf(errdefs.ErrConflict, "container %s is not running", c.id)
		}
		return err
	}
	s.publish(c, events.ActionResize, map[string]string{"height": strconv.Itoa(int(height)), "width": strconv.Itoa(int(width))})
	return nil
}
