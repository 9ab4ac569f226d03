package containers

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/shim"
	"github.com/berth-dev/berth/snapshot"
)

// errLostAtRestart is the state's error of a container that was running
// when berthd stopped and whose shim is gone without a trace (the host
// restarted, or its state directory was removed).
const errLostAtRestart = "the container was running when berthd stopped and its shim is gone (host restart?)"

// Restore reconciles the records with what outlived the previous berthd:
// it re-adopts the shims of running containers, records the exits that
// happened meanwhile, removes what no record names, and starts the
// containers whose restart policy says so. Call it once, before serving.
func (s *Service) Restore(ctx context.Context) error {
	for _, c := range s.all() {
		s.restoreOne(ctx, c)
	}
	if err := s.restoreNetworks(ctx); err != nil {
		s.log.Error("restore network endpoints", "error", err)
	}
	s.removeOrphans(ctx)
	for _, c := range s.all() {
		// A --rm container that ended while berthd was down (or whose
		// removal a crash cut short) goes now.
		c.mu.Lock()
		remove := c.rec.HostConfig.AutoRemove && c.sh == nil && c.rec.State.Status != container.StateCreated
		c.mu.Unlock()
		if remove {
			s.background(func() {
				if err := s.remove(s.ctx, c, true, true); err != nil {
					s.log.Warn("remove --rm container at start", "container", c.id, "error", err)
				}
			})
		}
	}
	for _, c := range s.all() {
		c.mu.Lock()
		boot := !c.rec.State.running() && c.rec.State.Status != container.StateCreated &&
			restartsAtBoot(c.rec.HostConfig.RestartPolicy, c.rec.Stopped)
		c.mu.Unlock()
		if !boot {
			continue
		}
		s.background(func() {
			if err := c.lock(s.ctx); err != nil {
				return
			}
			defer c.unlock()
			if c.state().running() {
				return
			}
			if err := s.start(s.ctx, c, true); err != nil {
				s.log.Warn("start container by its restart policy", "container", c.id, "error", err)
			}
		})
	}
	return nil
}

// restoreOne finds one container's shim again, or records what became of
// it.
func (s *Service) restoreOne(ctx context.Context, c *ctr) {
	dir := s.shimDir(c.id)
	c.mu.Lock()
	st := c.rec.State
	c.mu.Unlock()
	if _, err := os.Stat(dir); err == nil {
		sh, err := shim.Open(dir)
		if err == nil {
			c.mu.Lock()
			c.sh = sh
			if sh.Pid() > 0 && !c.rec.State.running() {
				// A start that did not get recorded before the crash.
				c.rec.State = state{Status: container.StateRunning, Pid: sh.InitPid(), StartedAt: time.Now().UTC(), FinishedAt: c.rec.State.FinishedAt}
				s.save(c)
			}
			c.mu.Unlock()
			s.log.Info("restored container", "container", c.id, "pid", sh.InitPid(), "running", sh.Pid() > 0)
			if sh.Pid() > 0 {
				s.restoreExecs(c, sh)
			}
			s.remountVolumes(ctx, c)
			if sh.Pid() > 0 {
				s.initHealth(c)
			}
			s.watch(c, sh)
			return
		}
		s.log.Warn("shim state of container unreadable", "container", c.id, "error", err)
		os.RemoveAll(dir)
	}
	switch {
	case st.Status == container.StateRestarting:
		// It was waiting for its policy restart: Restore's boot pass
		// starts it.
		c.mu.Lock()
		c.rec.State.Status = container.StateExited
		s.save(c)
		c.mu.Unlock()
	case st.running():
		c.mu.Lock()
		c.rec.State = state{Status: container.StateExited, ExitCode: 137, Error: errLostAtRestart,
			StartedAt: st.StartedAt, FinishedAt: time.Now().UTC()}
		s.save(c)
		runtimeName := c.rec.HostConfig.Runtime
		c.mu.Unlock()
		s.runtimeDelete(ctx, runtimeName, c.id)
		s.log.Warn("container was running, its shim is gone", "container", c.id)
	}
	s.unmountRootfs(c.id)
}

// removeOrphans removes what a crash left without a record: bundle
// directories, shim state, runtime state, layers.
func (s *Service) removeOrphans(ctx context.Context) {
	s.mu.RLock()
	known := map[string]bool{}
	shorts := map[string]bool{}
	for id := range s.byID {
		known[id] = true
		shorts[id[:shortLen]] = true
	}
	s.mu.RUnlock()
	dataDir := filepath.Join(s.o.DataRoot, "containers")
	if ents, err := os.ReadDir(dataDir); err == nil {
		for _, e := range ents {
			if !known[e.Name()] && validID(e.Name()) {
				s.log.Info("removing orphaned container directory", "container", e.Name())
				mount.UnmountAll(filepath.Join(dataDir, e.Name()))
				os.RemoveAll(filepath.Join(dataDir, e.Name()))
			}
		}
	}
	shimRoot := filepath.Join(s.o.ExecRoot, "containers")
	if ents, err := os.ReadDir(shimRoot); err == nil {
		for _, e := range ents {
			if shorts[e.Name()] {
				continue
			}
			dir := filepath.Join(shimRoot, e.Name())
			if sh, err := shim.Open(dir); err == nil && sh.Pid() > 0 {
				kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				sh.Kill(kctx, syscall.SIGKILL, true)
				sh.Wait(kctx)
				cancel()
			}
			os.RemoveAll(dir)
		}
	}
	if ents, err := os.ReadDir(s.runtimeRoot()); err == nil {
		for _, e := range ents {
			if !known[e.Name()] && validID(e.Name()) {
				s.runtimeDelete(ctx, s.o.DefaultRuntime, e.Name())
			}
		}
	}
	var orphans []string
	s.o.Snapshots.Walk(ctx, func(info snapshot.Info) error {
		if id := info.Labels[labelContainer]; id != "" && !known[id] && info.Kind == snapshot.KindActive {
			orphans = append(orphans, info.Name)
		}
		return nil
	})
	for _, key := range orphans {
		if err := s.o.Snapshots.Remove(ctx, key); err != nil {
			s.log.Warn("remove orphaned container layer", "container", key, "error", err)
		}
	}
}
