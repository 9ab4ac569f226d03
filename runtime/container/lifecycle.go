package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// Start lets a created container run its process: it opens the exec fifo,
// which releases init, then runs the poststart hooks.
func (c *Container) Start(ctx context.Context) error {
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return classf(errdefs.ErrFailedPrecondition, "cannot start container %s: it has stopped", c.ID)
	default:
		return classf(errdefs.ErrFailedPrecondition, "cannot start container %s: it is already %s", c.ID, st)
	}
	path := filepath.Join(c.dir, fifoName)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return classf(errdefs.ErrFailedPrecondition, "cannot start container %s: it was started already", c.ID)
		}
		return fmt.Errorf("start container %s: open %s: %w", c.ID, path, err)
	}
	defer unix.Close(fd)
	// Only one start wins: the fifo goes away as soon as it is open.
	if err := os.Remove(path); err != nil {
		return classf(errdefs.ErrFailedPrecondition, "cannot start container %s: it was started already", c.ID)
	}
	if err := c.awaitFifo(fd); err != nil {
		return err
	}
	if c.Spec.Hooks != nil && len(c.Spec.Hooks.Poststart) > 0 {
		if err := runHooks(ctx, "poststart", c.Spec.Hooks.Poststart, c.hookState(Running)); err != nil {
			return err
		}
	}
	return nil
}

// awaitFifo waits until init has written its byte, or has died.
func (c *Container) awaitFifo(fd int) error {
	buf := make([]byte, 1)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("start container %s: poll exec fifo: %w", c.ID, err)
		}
		if n > 0 {
			r, err := unix.Read(fd, buf)
			if r == 1 {
				return nil
			}
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				return fmt.Errorf("start container %s: read exec fifo: %w", c.ID, err)
			}
		}
		if !c.initAlive() {
			return fmt.Errorf("start container %s: its init process exited before start", c.ID)
		}
	}
}

// Signal sends sig to init, or with all to every process in the
// container's cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	st := c.Status()
	if st == Stopped {
		return classf(errdefs.ErrFailedPrecondition, "container %s is not running", c.ID)
	}
	if all {
		return c.signalAll(sig)
	}
	if err := unix.Kill(c.InitPid, sig); err != nil {
		return fmt.Errorf("signal %d to container %s init %d: %w", sig, c.ID, c.InitPid, err)
	}
	return nil
}

func (c *Container) signalAll(sig unix.Signal) error {
	m, err := c.cgroup()
	if err != nil {
		return unix.Kill(c.InitPid, sig)
	}
	frozen := false
	if sig == unix.SIGKILL {
		// Freeze first so nothing forks while we walk the list.
		frozen = m.Freeze() == nil
	}
	pids, err := m.Pids()
	if err != nil {
		if frozen {
			m.Thaw()
		}
		return fmt.Errorf("list processes of container %s: %w", c.ID, err)
	}
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	if frozen {
		m.Thaw()
	}
	return nil
}

// Delete removes a stopped (or never started) container: what is left of
// its processes, its cgroup and its state directory, then runs the
// poststop hooks. A running container needs force.
func (c *Container) Delete(ctx context.Context, force bool, warn Warnf) error {
	st := c.Status()
	switch st {
	case Stopped, Created:
	default:
		if !force {
			return classf(errdefs.ErrFailedPrecondition, "cannot delete container %s that is not stopped: %s (use --force)", c.ID, st)
		}
	}
	if st != Stopped {
		if st == Paused {
			if m, err := c.cgroup(); err == nil {
				m.Thaw()
			}
		}
		unix.Kill(c.InitPid, unix.SIGKILL)
		if !waitGone(c.InitPid, 10*time.Second) {
			return fmt.Errorf("delete container %s: init %d did not die", c.ID, c.InitPid)
		}
	}
	// Without a pid namespace of its own, the container's other processes
	// outlive init: kill them through the cgroup.
	m, cgErr := c.cgroup()
	if cgErr == nil {
		if pids, _ := m.Pids(); len(pids) > 0 {
			c.signalAll(unix.SIGKILL)
			for _, p := range pids {
				waitGone(p, time.Second)
			}
		}
	}
	// Nothing runs in the container any more: its cgroups and its state
	// directory go at once.
	removed := make(chan error, 1)
	go func() { removed <- os.RemoveAll(c.dir) }()
	if cgErr == nil {
		if err := m.Destroy(); err != nil && warn != nil {
			warn("remove cgroup of container %s: %v", c.ID, err)
		}
	}
	if err := <-removed; err != nil {
		return fmt.Errorf("delete container %s: remove %s: %w", c.ID, c.dir, err)
	}
	if c.Spec != nil && c.Spec.Hooks != nil && len(c.Spec.Hooks.Poststop) > 0 {
		if err := runHooks(ctx, "poststop", c.Spec.Hooks.Poststop, c.hookState(Stopped)); err != nil && warn != nil {
			warn("%v", err)
		}
	}
	return nil
}

// Pause freezes every process of the container.
func (c *Container) Pause() error {
	if st := c.Status(); st != Running && st != Created {
		return classf(errdefs.ErrFailedPrecondition, "cannot pause container %s: it is %s", c.ID, st)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Freeze(); err != nil {
		return fmt.Errorf("pause container %s: %w", c.ID, err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.Status(); st != Paused {
		return classf(errdefs.ErrFailedPrecondition, "cannot resume container %s: it is %s, not paused", c.ID, st)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Thaw(); err != nil {
		return fmt.Errorf("resume container %s: %w", c.ID, err)
	}
	return nil
}

// Pids lists the container's processes.
func (c *Container) Pids() ([]int, error) {
	if c.Status() == Stopped {
		return nil, classf(errdefs.ErrFailedPrecondition, "container %s is not running", c.ID)
	}
	m, err := c.cgroup()
	if err != nil {
		return []int{c.InitPid}, nil
	}
	return m.Pids()
}
