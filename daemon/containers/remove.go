package containers

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
)

// Remove removes a container, as DELETE /containers/{id}: a running one
// only with force (killed first). Nothing of it is left: record, layer,
// bundle directory, logs, shim and runtime state.
func (s *Service) Remove(ctx context.Context, ref string, force, volumes bool) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	if err := s.remove(ctx, c, force, volumes); err != nil {
		if errdefs.IsNotFound(err) {
			return notFound(ref)
		}
		return err
	}
	return nil
}

func (s *Service) remove(ctx context.Context, c *ctr, force, volumes bool) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	c.mu.Lock()
	if c.gone || c.removing {
		c.mu.Unlock()
		return errorf(errdefs.ErrNotFound, "container %s is being removed", c.id)
	}
	name, runtimeName, vols := c.rec.Name, c.rec.HostConfig.Runtime, c.rec.Volumes
	st := c.rec.State
	if st.running() && !force {
		c.mu.Unlock()
		state := "running"
		if st.Status == "paused" {
			return errorf(errdefs.ErrConflict, "cannot remove container \"/%s\": container is paused: unpause and then stop the container before attempting removal or force remove", name)
		}
		if st.Status == "restarting" {
			state = "restarting"
		}
		return errorf(errdefs.ErrConflict, "cannot remove container \"/%s\": container is %s: stop the container before removing or force remove", name, state)
	}
	c.removing = true
	c.mu.Unlock()
	s.cancelRestart(c)
	// From here on the removal completes even if the client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.signal(ctx, c, syscall.SIGKILL, true); err == nil {
		if !s.waitExit(ctx, c, 30) {
			c.mu.Lock()
			c.removing = false
			c.mu.Unlock()
			return fmt.Errorf("remove container %s: it did not exit after SIGKILL", c.id)
		}
	}
	if err := deleteRecord(s.o.DB, c.id); err != nil {
		c.mu.Lock()
		c.removing = false
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	c.gone = true
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	s.forget(c, name)
	for _, p := range pending {
		p.deliver(nil, nil, notFound(c.id))
	}
	// The record is gone: what follows is cleanup, logged when it fails
	// and finished by the next Restore.
	s.cleanup(ctx, c.id, runtimeName)
	s.releaseVolumes(ctx, c.id, vols, volumes)
	s.publish(c, events.ActionDestroy, nil)
	close(c.removed)
	return nil
}

// cleanup removes what a container has on disk besides its record.
func (s *Service) cleanup(ctx context.Context, id, runtimeName string) {
	s.unmountRootfs(id)
	if err := s.o.Snapshots.Remove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		s.log.Warn("remove container layer", "container", id, "error", err)
	}
	if err := os.RemoveAll(s.bundleDir(id)); err != nil {
		s.log.Warn("remove container directory", "container", id, "error", err)
	}
	if err := os.RemoveAll(s.shimDir(id)); err != nil {
		s.log.Warn("remove shim state", "container", id, "error", err)
	}
	s.runtimeDelete(ctx, runtimeName, id)
}
