package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/daemon/spec"
)

// Update changes a container's resources and restart policy, as POST
// /containers/{id}/update: the fields the request sets replace the
// container's; the bundle's config.json gets the new limits, and a running
// container gets them at once (the runtime's update).
func (s *Service) Update(ctx context.Context, ref string, u container.UpdateConfig) ([]string, error) {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer c.unlock()
	c.mu.Lock()
	hc := *c.rec.HostConfig
	cfg := *c.rec.Config
	running := c.sh != nil
	c.mu.Unlock()
	mergeResources(&hc.Resources, &u.Resources)
	if u.RestartPolicy.Name != "" {
		hc.RestartPolicy = u.RestartPolicy
		if err := checkRestartPolicy(&hc); err != nil {
			return nil, err
		}
	}
	bundle := filepath.Join(s.bundleDir(c.id), "config.json")
	data, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("update container %s: %w", c.id, err)
	}
	var sp specs.Spec
	if err := json.Unmarshal(data, &sp); err != nil || sp.Process == nil || sp.Linux == nil {
		return nil, fmt.Errorf("update container %s: decode config.json: %v: %w", c.id, err, errdefs.ErrDataLoss)
	}
	// The limits are computed as at create; the user is given by number,
	// so that nothing needs the container's /etc/passwd.
	cfg.User = strconv.FormatUint(uint64(sp.Process.User.UID), 10) + ":" + strconv.FormatUint(uint64(sp.Process.User.GID), 10)
	hcGen := hc
	hcGen.Binds, hcGen.Mounts, hcGen.Tmpfs = nil, nil, nil
	res, err := spec.Generate(spec.Input{ID: c.id, Config: &cfg, HostConfig: &hcGen}, s.o.Spec...)
	if err != nil {
		return nil, err
	}
	sp.Linux.Resources = res.Spec.Linux.Resources
	if running {
		r, err := json.Marshal(sp.Linux.Resources)
		if err != nil {
			return nil, err
		}
		tmp := filepath.Join(s.shimDir(c.id), "update.json")
		if err := os.WriteFile(tmp, r, 0o600); err != nil {
			return nil, fmt.Errorf("update container %s: %w", c.id, err)
		}
		err = s.runtimeRun(ctx, c, "update", "--resources", tmp)
		os.Remove(tmp)
		if err != nil {
			return nil, errorf(errdefs.ErrInvalidArgument, "Cannot update container %s: %v", c.id, err)
		}
	}
	out, err := json.Marshal(&sp)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(bundle, out, 0o600); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.rec.HostConfig.Resources = hc.Resources
	c.rec.HostConfig.RestartPolicy = hc.RestartPolicy
	err = s.save(c)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.publish(c, events.ActionUpdate, nil)
	return []string{}, nil
}

// mergeResources sets in dst the resources u sets, as dockerd's update
// does: a zero value leaves the container's.
func mergeResources(dst, u *container.Resources) {
	set64 := func(d *int64, v int64) {
		if v != 0 {
			*d = v
		}
	}
	set64(&dst.CPUShares, u.CPUShares)
	set64(&dst.Memory, u.Memory)
	set64(&dst.MemoryReservation, u.MemoryReservation)
	set64(&dst.MemorySwap, u.MemorySwap)
	set64(&dst.NanoCPUs, u.NanoCPUs)
	set64(&dst.CPUPeriod, u.CPUPeriod)
	set64(&dst.CPUQuota, u.CPUQuota)
	set64(&dst.CPURealtimePeriod, u.CPURealtimePeriod)
	set64(&dst.CPURealtimeRuntime, u.CPURealtimeRuntime)
	if u.CpusetCpus != "" {
		dst.CpusetCpus = u.CpusetCpus
	}
	if u.CpusetMems != "" {
		dst.CpusetMems = u.CpusetMems
	}
	if u.BlkioWeight != 0 {
		dst.BlkioWeight = u.BlkioWeight
	}
	// As at create, the docker CLI's 0 means "not given".
	if u.PidsLimit != nil && *u.PidsLimit != 0 {
		n := *u.PidsLimit
		dst.PidsLimit = &n
	}
	if u.Memory != 0 && u.MemorySwap == 0 && dst.MemorySwap > 0 && dst.MemorySwap < u.Memory {
		// A new memory limit above the old swap limit takes the swap
		// limit along, as dockerd does.
		dst.MemorySwap = 2 * u.Memory
	}
}
