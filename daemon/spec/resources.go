package spec

import (
	"path"
	"strings"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// minMemory is Docker's floor for memory limits and reservations: less
// cannot even start a container.
const minMemory = 6 << 20

// adaptResources applies Docker's create-time defaults: swap twice the
// memory when unset, no swappiness for -1.
func (b *builder) adaptResources() {
	r := &b.hc.Resources
	if r.Memory > 0 && r.MemorySwap == 0 {
		r.MemorySwap = 2 * r.Memory
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness == -1 {
		r.MemorySwappiness = nil
	}
	if b.o.host.NoSwapAccounting && r.Memory > 0 && r.MemorySwap != -1 {
		b.warn("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
		r.MemorySwap = -1
	}
}

// resources turns Resources into linux.resources, with Docker's checks.
func (b *builder) resources() error {
	r := &b.hc.Resources
	lr := b.s.Linux.Resources
	var err error
	if lr.Memory, err = b.memory(r); err != nil {
		return err
	}
	if lr.CPU, err = b.cpu(r); err != nil {
		return err
	}
	if lr.BlockIO, err = b.blockIO(r); err != nil {
		return err
	}
	pids := func(n int64) *specs.LinuxPids { return &specs.LinuxPids{Limit: &n} }
	switch {
	case r.PidsLimit == nil && b.o.pidsLimit > 0:
		lr.Pids = pids(b.o.pidsLimit)
	case r.PidsLimit != nil && *r.PidsLimit <= 0:
		lr.Pids = pids(-1) // 0 and -1 mean unlimited
	case r.PidsLimit != nil:
		lr.Pids = pids(*r.PidsLimit)
	}
	if r.IOMaximumBandwidth != 0 || r.IOMaximumIOps != 0 {
		return invalidf("invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
	}
	if r.CPUCount != 0 || r.CPUPercent != 0 {
		b.warn("linux does not support CPU count and CPU percent. Discarded.")
	}
	parent := b.o.cgroupParent
	if r.CgroupParent != "" {
		parent = r.CgroupParent
	}
	if strings.IndexByte(parent, 0) >= 0 {
		return invalidf("invalid cgroup parent %q", parent)
	}
	// Cleaned from "/", so "../.." cannot climb out of the cgroup root.
	b.s.Linux.CgroupsPath = path.Join("/", parent, b.in.ID)
	return nil
}

func (b *builder) memory(r *container.Resources) (*specs.LinuxMemory, error) {
	switch {
	case r.Memory < 0:
		return nil, invalidf("invalid memory limit %d: must not be negative", r.Memory)
	case r.Memory != 0 && r.Memory < minMemory:
		return nil, invalidf("minimum memory limit allowed is 6MB")
	case r.MemorySwap < -1:
		return nil, invalidf("invalid memory swap limit %d: -1 (unlimited) or more", r.MemorySwap)
	case r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory:
		return nil, invalidf("minimum memoryswap limit should be larger than memory limit, see usage")
	case r.Memory == 0 && r.MemorySwap > 0:
		return nil, invalidf("you should always set the Memory limit when using Memoryswap limit, see usage")
	case r.MemorySwappiness != nil && (*r.MemorySwappiness < 0 || *r.MemorySwappiness > 100):
		return nil, invalidf("invalid value: %v, valid memory swappiness range is 0-100", *r.MemorySwappiness)
	case r.MemoryReservation < 0:
		return nil, invalidf("invalid memory reservation %d: must not be negative", r.MemoryReservation)
	case r.MemoryReservation > 0 && r.MemoryReservation < minMemory:
		return nil, invalidf("minimum memory reservation allowed is 6MB")
	case r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation:
		return nil, invalidf("minimum memory limit can not be less than memory reservation limit, see usage")
	}
	m := specs.LinuxMemory{}
	if r.Memory > 0 {
		v := r.Memory
		m.Limit = &v
	}
	if r.MemoryReservation > 0 {
		v := r.MemoryReservation
		m.Reservation = &v
	}
	if r.Memory > 0 && r.MemorySwap != 0 {
		v := r.MemorySwap
		m.Swap = &v
	}
	if r.MemorySwappiness != nil {
		v := uint64(*r.MemorySwappiness)
		m.Swappiness = &v
	}
	if r.OomKillDisable != nil && *r.OomKillDisable {
		v := true
		m.DisableOOMKiller = &v
		if r.Memory == 0 {
			b.warn("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
		}
	}
	if m == (specs.LinuxMemory{}) {
		return nil, nil
	}
	return &m, nil
}

func (b *builder) cpu(r *container.Resources) (*specs.LinuxCPU, error) {
	switch {
	case r.NanoCPUs > 0 && r.CPUPeriod > 0:
		return nil, invalidf("conflicting options: Nano CPUs and CPU Period cannot both be set")
	case r.NanoCPUs > 0 && r.CPUQuota > 0:
		return nil, invalidf("conflicting options: Nano CPUs and CPU Quota cannot both be set")
	case r.NanoCPUs < 0 || (b.o.host.NumCPU > 0 && r.NanoCPUs > int64(b.o.host.NumCPU)*1e9):
		n := b.o.host.NumCPU
		return nil, invalidf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)
	case r.CPUShares < 0:
		return nil, invalidf("invalid CPU shares (%d): value must be a positive integer", r.CPUShares)
	case r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000):
		return nil, invalidf("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	case r.CPUQuota > 0 && r.CPUQuota < 1000:
		return nil, invalidf("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	case r.CPURealtimePeriod < 0 || r.CPURealtimeRuntime < 0:
		return nil, invalidf("invalid CPU real-time period or runtime: must not be negative")
	}
	if err := checkCPUSet("cpus", r.CpusetCpus, b.o.host.CPUs); err != nil {
		return nil, err
	}
	if err := checkCPUSet("mems", r.CpusetMems, b.o.host.Mems); err != nil {
		return nil, err
	}
	c := specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
	if r.CPUShares > 0 {
		v := uint64(r.CPUShares)
		c.Shares = &v
	}
	if r.NanoCPUs > 0 {
		// The CFS period is 100ms; the quota is that share of it.
		period := uint64(100000)
		quota := r.NanoCPUs * int64(period) / 1e9
		c.Period, c.Quota = &period, &quota
	}
	if r.CPUPeriod != 0 {
		v := uint64(r.CPUPeriod)
		c.Period = &v
	}
	if r.CPUQuota != 0 {
		v := r.CPUQuota
		c.Quota = &v
	}
	if r.CPURealtimePeriod != 0 {
		v := uint64(r.CPURealtimePeriod)
		c.RealtimePeriod = &v
	}
	if r.CPURealtimeRuntime != 0 {
		v := r.CPURealtimeRuntime
		c.RealtimeRuntime = &v
	}
	if c == (specs.LinuxCPU{}) {
		return nil, nil
	}
	return &c, nil
}

func (b *builder) blockIO(r *container.Resources) (*specs.LinuxBlockIO, error) {
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return nil, invalidf("range of blkio weight is from 10 to 1000")
	}
	bio := &specs.LinuxBlockIO{}
	set := false
	if r.BlkioWeight > 0 {
		w := r.BlkioWeight
		bio.Weight, set = &w, true
	}
	for _, wd := range r.BlkioWeightDevice {
		if wd == nil {
			continue
		}
		if wd.Weight < 10 || wd.Weight > 1000 {
			return nil, invalidf("invalid weight for device %s: %d: range of blkio weight is from 10 to 1000", wd.Path, wd.Weight)
		}
		major, minor, err := b.blockDevice(wd.Path)
		if err != nil {
			return nil, err
		}
		w := wd.Weight
		d := specs.LinuxWeightDevice{Weight: &w}
		d.Major, d.Minor = major, minor
		bio.WeightDevice, set = append(bio.WeightDevice, d), true
	}
	for _, t := range []struct {
		in  []*blkiodev.ThrottleDevice
		out *[]specs.LinuxThrottleDevice
	}{
		{r.BlkioDeviceReadBps, &bio.ThrottleReadBpsDevice},
		{r.BlkioDeviceWriteBps, &bio.ThrottleWriteBpsDevice},
		{r.BlkioDeviceReadIOps, &bio.ThrottleReadIOPSDevice},
		{r.BlkioDeviceWriteIOps, &bio.ThrottleWriteIOPSDevice},
	} {
		for _, td := range t.in {
			if td == nil {
				continue
			}
			major, minor, err := b.blockDevice(td.Path)
			if err != nil {
				return nil, err
			}
			d := specs.LinuxThrottleDevice{Rate: td.Rate}
			d.Major, d.Minor = major, minor
			*t.out, set = append(*t.out, d), true
		}
	}
	if !set {
		return nil, nil
	}
	return bio, nil
}

// blockDevice returns the numbers of the block device at a host path.
func (b *builder) blockDevice(p string) (major, minor int64, err error) {
	if !path.IsAbs(p) {
		return 0, 0, invalidf("invalid block device path %q: must be absolute", p)
	}
	devs, err := b.o.host.devices(p)
	if err != nil {
		return 0, 0, invalidWrap(err, "block device %s: %v", p, err)
	}
	if len(devs) != 1 || devs[0].Type != "b" {
		return 0, 0, invalidf("%s is not a block device", p)
	}
	return devs[0].Major, devs[0].Minor, nil
}
