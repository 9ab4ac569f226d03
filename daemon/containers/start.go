package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/shim"
)

// Start starts a created or stopped container, as POST
// /containers/{id}/start.
func (s *Service) Start(ctx context.Context, ref string) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	c.mu.Lock()
	st, gone := c.rec.State.Status, c.gone || c.removing
	c.mu.Unlock()
	switch {
	case gone:
		return notFound(ref)
	case st == container.StatePaused:
		return errorf(errdefs.ErrConflict, "cannot start a paused container, try unpause instead")
	case st == container.StateRunning:
		return errorf(errdefs.ErrNotModified, "container already started")
	case st == container.StateRestarting:
		// The user's start takes the place of the policy's.
		s.cancelRestart(c)
	}
	err = s.start(ctx, c, false)
	if err != nil && c.autoRemove() {
		// As dockerd: a --rm container that cannot start is removed (the
		// docker CLI waits for that).
		s.background(func() {
			if err := s.remove(s.ctx, c, true, true); err != nil && !errdefs.IsNotFound(err) {
				s.log.Warn("remove a container that failed to start", "container", c.id, "error", err)
			}
		})
	}
	return err
}

func (c *ctr) autoRemove() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.HostConfig.AutoRemove
}

// start runs the container: mount the rootfs, start the shim (runtime
// create), bring up the loopback, connect waiting attach clients, start
// the process, watch for its exit. The caller holds the operation lock.
// A failure is recorded in the state, as dockerd records it.
func (s *Service) start(ctx context.Context, c *ctr, policy bool) (err error) {
	if s.isClosed() {
		return errorf(errdefs.ErrUnavailable, "berthd is shutting down")
	}
	c.mu.Lock()
	rec := c.rec
	hostDirs, cfg, hc := rec.HostDirs, rec.Config, rec.HostConfig
	c.mu.Unlock()
	defer func() {
		if err != nil {
			s.recordStartFailure(c, err, policy)
		}
	}()
	runtimePath, err := s.o.Runtime(hc.Runtime)
	if err != nil {
		return fmt.Errorf("start container %s: %w", c.id, err)
	}
	size, files, err := logRotation(hc.LogConfig, s.logSize, s.logFiles)
	if err != nil {
		return err
	}
	for _, d := range hostDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create bind source %s: %w", d, err)
		}
	}
	undoCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.mountRootfs(ctx, c.id); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.unmountRootfs(c.id)
		}
	}()
	if err := s.ensureNetFiles(c.id, cfg, s.withHostGateway(ctx, hc)); err != nil {
		return fmt.Errorf("start container %s: %w", c.id, err)
	}
	if err := s.joinNamespaces(c, hc); err != nil {
		return err
	}
	if err := s.mountVolumes(ctx, c, rec.Volumes); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.unmountVolumes(c.id, rec.Volumes)
		}
	}()
	// A state directory left by an earlier run holds its exit.json only.
	if err := os.RemoveAll(s.shimDir(c.id)); err != nil {
		return fmt.Errorf("start container %s: %w", c.id, err)
	}
	sh, err := shim.Start(ctx, shim.Options{
		Binary: s.o.Shim, Runtime: runtimePath, RuntimeRoot: s.runtimeRoot(), ID: c.id,
		Bundle: s.bundleDir(c.id), StateDir: s.shimDir(c.id), LogPath: s.logPath(c.id),
		LogMaxSize: size, LogMaxFiles: files, Terminal: cfg.Tty, Stdin: cfg.OpenStdin, StdinOnce: cfg.StdinOnce,
	})
	if err != nil {
		return startError(err)
	}
	defer func() {
		if err != nil {
			// The process never ran: kill the created container and let
			// the shim clean up after it.
			sh.Kill(undoCtx, syscall.SIGKILL, true)
			sh.Wait(undoCtx)
			os.RemoveAll(s.shimDir(c.id))
		}
	}()
	if !hc.NetworkMode.IsHost() {
		if err := loopbackUp(sh.InitPid()); err != nil {
			return fmt.Errorf("start container %s: %w", c.id, err)
		}
	}
	if s.o.Networks != nil {
		if err := s.attach(ctx, c, sh.InitPid()); err != nil {
			return fmt.Errorf("start container %s: %w", c.id, err)
		}
		defer func() {
			if err != nil {
				s.detach(undoCtx, c)
			}
		}()
	}
	s.connectPending(ctx, c, sh)
	if err := sh.Start(ctx); err != nil {
		return startError(err)
	}
	now := time.Now().UTC()
	c.mu.Lock()
	prev := c.rec.State
	c.rec.State = state{Status: container.StateRunning, Pid: sh.InitPid(), StartedAt: now, FinishedAt: prev.FinishedAt}
	c.rec.Stopped = false
	if policy {
		c.rec.Restarts++
	}
	c.sh = sh
	saveErr := s.save(c)
	c.mu.Unlock()
	if saveErr != nil {
		s.log.Error("record the start of a container", "container", c.id, "error", saveErr)
	}
	s.watch(c, sh)
	s.publish(c, events.ActionStart, nil)
	s.initHealth(c)
	return nil
}

// startError classifies a runtime's failure to run the process as dockerd
// does, so that the docker CLI exits 127 for a command not found and 126
// for one that cannot be run.
func startError(err error) error {
	if startFailureCode(err) != 128 {
		return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
	}
	return err
}

// startFailureCode is Docker's exit code for a failed start: 127 command
// not found, 126 not executable, else 128.
func startFailureCode(err error) int {
	switch msg := err.Error(); {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return 126
	}
	return 128
}

// recordStartFailure keeps the error and Docker's exit code for it
// (startFailureCode) in the state.
func (s *Service) recordStartFailure(c *ctr, err error, policy bool) {
	c.mu.Lock()
	c.rec.State.Error = err.Error()
	c.rec.State.ExitCode = startFailureCode(err)
	if c.rec.State.Status != container.StateCreated {
		c.rec.State.Status = container.StateExited
		c.rec.State.FinishedAt = time.Now().UTC()
	}
	c.rec.State.Pid = 0
	saveErr := s.save(c)
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if saveErr != nil {
		s.log.Error("record a failed start", "container", c.id, "error", saveErr)
	}
	for _, p := range pending {
		p.deliver(nil, nil, err)
	}
	if policy {
		s.log.Warn("restart by policy failed", "container", c.id, "error", err)
	}
}

// mountRootfs mounts the container's layer at its rootfs, unless it is
// mounted already.
func (s *Service) mountRootfs(ctx context.Context, id string) error {
	root := s.rootfs(id)
	if mps, err := mount.Under(root); err == nil && len(mps) > 0 {
		return nil
	}
	ms, err := s.o.Snapshots.Mounts(ctx, id)
	if err != nil {
		return fmt.Errorf("mount the rootfs of container %s: %w", id, err)
	}
	if err := mount.All(ms, root); err != nil {
		return fmt.Errorf("mount the rootfs of container %s: %w", id, err)
	}
	return nil
}

// unmountRootfs takes the rootfs and anything under it off; failures are
// logged, for it runs after the point of no return.
func (s *Service) unmountRootfs(id string) {
	if err := mount.UnmountAll(s.rootfs(id)); err != nil {
		s.log.Warn("unmount container rootfs", "container", id, "error", err)
	}
	s.unmountShm(id)
}

// watch waits, in the background, for the container's shim to go, and
// records the exit.
func (s *Service) watch(c *ctr, sh *shim.Shim) {
	s.background(func() {
		st, err := sh.Wait(s.ctx)
		if s.ctx.Err() != nil {
			return // berthd is stopping: the next one finds the shim again
		}
		s.exited(c, sh, st, err)
	})
}

// errShimLost is the state's error when a shim vanished without recording
// the exit.
const errShimLost = "the container's shim exited without recording its exit status (killed?); its process is gone"

// exited records the end of a run: state, exit code, unmounted rootfs, the
// die event, the waiters; then the restart policy or auto-removal.
func (s *Service) exited(c *ctr, sh *shim.Shim, st shim.ExitStatus, waitErr error) {
	if waitErr != nil {
		s.log.Warn("container's shim is gone without an exit status", "container", c.id, "error", waitErr)
		st = shim.ExitStatus{Code: 137, ExitedAt: time.Now().UTC()}
		if errors.Is(waitErr, errdefs.ErrDataLoss) {
			c.mu.Lock()
			name := c.rec.HostConfig.Runtime
			c.mu.Unlock()
			s.runtimeDelete(context.Background(), name, c.id)
		}
	}
	c.mu.Lock()
	if c.sh != sh {
		c.mu.Unlock()
		return
	}
	c.sh = nil
	c.stopHealth()
	prev := c.rec.State
	ns := state{Status: container.StateExited, ExitCode: st.Code, OOMKilled: st.OOMKilled,
		StartedAt: prev.StartedAt, FinishedAt: st.ExitedAt.UTC()}
	if waitErr != nil {
		ns.Error = errShimLost
	}
	restart := !c.removing && !c.restarting && !s.isClosed() && shouldRestart(c.rec.HostConfig.RestartPolicy, st.Code, c.rec.Restarts, c.rec.Stopped)
	var delay time.Duration
	if restart {
		ns.Status = container.StateRestarting
		c.backoff = nextBackoff(c.backoff, ns.FinishedAt.Sub(prev.StartedAt))
		delay = c.backoff
	}
	c.rec.State = ns
	saveErr := s.save(c)
	r := c.next
	c.next = newRun()
	autoRemove := c.rec.HostConfig.AutoRemove && !c.removing && !c.restarting && !restart
	c.mu.Unlock()
	if saveErr != nil {
		s.log.Error("record a container's exit", "container", c.id, "error", saveErr)
	}
	s.unmountRootfs(c.id)
	s.unmountVolumes(c.id, c.volumes())
	if err := os.RemoveAll(s.shimDir(c.id)); err != nil {
		s.log.Warn("remove shim state", "container", c.id, "error", err)
	}
	if st.OOMKilled {
		s.publish(c, events.ActionOOM, nil)
	}
	// Off its networks before anyone learns of the exit, so that a stop,
	// a kill or a removal that returns leaves no endpoint behind; the
	// disconnect events follow the die event, as dockerd's do.
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	left := s.leaveNetworks(dctx, c)
	s.publish(c, events.ActionDie, map[string]string{"exitCode": fmt.Sprint(st.Code)})
	s.publishDisconnects(dctx, c.id, left)
	cancel()
	r.exitCode, r.err = ns.ExitCode, ns.Error
	close(r.done)
	switch {
	case restart:
		s.scheduleRestart(c, delay)
	case autoRemove:
		s.background(func() {
			if err := s.remove(s.ctx, c, true, true); err != nil && !errdefs.IsNotFound(err) {
				s.log.Warn("auto-remove container", "container", c.id, "error", err)
			}
		})
	}
}

// scheduleRestart starts the container again after delay, unless the user
// stopped, started or removed it meanwhile.
func (s *Service) scheduleRestart(c *ctr, delay time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		s.background(func() {
			if err := c.lock(s.ctx); err != nil {
				return
			}
			defer c.unlock()
			c.mu.Lock()
			mine := c.restart == t && c.rec.State.Status == container.StateRestarting && !c.removing
			if mine {
				c.restart = nil
			}
			c.mu.Unlock()
			if !mine {
				return
			}
			if err := s.start(s.ctx, c, true); err != nil {
				s.log.Warn("restart container by its policy", "container", c.id, "error", err)
			}
		})
	})
	c.restart = t
}

// cancelRestart drops a pending policy restart and marks the container
// exited; the caller holds the operation lock.
func (s *Service) cancelRestart(c *ctr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.restart != nil {
		c.restart.Stop()
	}
	c.restart = nil
	if c.rec.State.Status == container.StateRestarting {
		c.rec.State.Status = container.StateExited
		if err := s.save(c); err != nil {
			s.log.Error("record a cancelled restart", "container", c.id, "error", err)
		}
	}
}

// background runs fn in a goroutine that Close waits for, unless Close
// has begun; it reports whether fn runs.
func (s *Service) background(fn func()) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}
