package container

import (
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/runtime/cgroups"
)

// Update applies new resource limits to a running container and records
// them in its state, merged over the current ones.
func (c *Container) Update(r *specs.LinuxResources) error {
	if c.Status() == Stopped {
		return classf(errdefs.ErrFailedPrecondition, "cannot update container %s: it has stopped", c.ID)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Set(r); err != nil {
		return fmt.Errorf("update container %s: %w", c.ID, err)
	}
	if c.Spec.Linux.Resources == nil {
		c.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	mergeResources(c.Spec.Linux.Resources, r)
	return c.save()
}

func mergeResources(dst, src *specs.LinuxResources) {
	if src.Memory != nil {
		dst.Memory = src.Memory
	}
	if src.CPU != nil {
		dst.CPU = src.CPU
	}
	if src.Pids != nil {
		dst.Pids = src.Pids
	}
	if src.BlockIO != nil {
		dst.BlockIO = src.BlockIO
	}
	if len(src.HugepageLimits) > 0 {
		dst.HugepageLimits = src.HugepageLimits
	}
	if len(src.Unified) > 0 {
		dst.Unified = src.Unified
	}
}

// Stats reads the container's resource usage.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == Stopped {
		return nil, classf(errdefs.ErrFailedPrecondition, "container %s is not running", c.ID)
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.Stats()
}

// OOMKills is the count of OOM kills in the container's memory cgroup.
func (c *Container) OOMKills() (uint64, error) {
	m, err := c.cgroup()
	if err != nil {
		return 0, err
	}
	return m.OOMKillCount()
}
