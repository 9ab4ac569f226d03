package cgroups

import (
	"errors"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// v1: cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us, cpu.cfs_burst_us,
// cpu.rt_period_us, cpu.rt_runtime_us, cpu.idle.
// v2: cpu.weight (converted shares), cpu.max ("$QUOTA $PERIOD", "max" for no
// quota), cpu.max.burst, cpu.idle; v2 has no realtime budget.

func (m *manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if !setU64(c.Shares) && !set64(c.Quota) && !setU64(c.Period) && c.Burst == nil &&
		c.RealtimeRuntime == nil && !setU64(c.RealtimePeriod) && c.Idle == nil {
		return nil
	}
	dir, v2, err := m.controller("cpu")
	if err != nil {
		return err
	}
	if v2 {
		return unavailable("cpu", setCPUV2(dir, c))
	}
	return setCPUV1(dir, c)
}

func setCPUV1(dir string, c *specs.LinuxCPU) error {
	if setU64(c.Shares) {
		// The kernel clamps shares to [2, 262144] itself.
		if err := writeFile(dir, "cpu.shares", utoa(*c.Shares)); err != nil {
			return err
		}
	}
	quotaDone := false
	if setU64(c.Period) {
		err := writeFile(dir, "cpu.cfs_period_us", utoa(*c.Period))
		if errors.Is(err, unix.EINVAL) && set64(c.Quota) {
			// The old quota does not fit the new period (or the parent's
			// bandwidth); the new quota may, so write it first.
			if err = writeFile(dir, "cpu.cfs_quota_us", itoa(*c.Quota)); err == nil {
				quotaDone = true
				err = writeFile(dir, "cpu.cfs_period_us", utoa(*c.Period))
			}
		}
		if err != nil {
			return err
		}
	}
	if set64(c.Quota) && !quotaDone {
		if err := writeFile(dir, "cpu.cfs_quota_us", itoa(*c.Quota)); err != nil {
			return err
		}
	}
	if c.Burst != nil { // after the quota: burst may not exceed it
		if err := writeFile(dir, "cpu.cfs_burst_us", utoa(*c.Burst)); err != nil {
			return err
		}
	}
	if setU64(c.RealtimePeriod) {
		if err := writeFile(dir, "cpu.rt_period_us", utoa(*c.RealtimePeriod)); err != nil {
			return err
		}
	}
	if c.RealtimeRuntime != nil {
		if err := writeFile(dir, "cpu.rt_runtime_us", itoa(*c.RealtimeRuntime)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", itoa(*c.Idle)); err != nil {
			return err
		}
	}
	return nil
}

func setCPUV2(dir string, c *specs.LinuxCPU) error {
	if (c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0) || setU64(c.RealtimePeriod) {
		return errors.New("realtime cpu limits (realtimeRuntime, realtimePeriod) are not supported by cgroup v2")
	}
	if setU64(c.Shares) {
		if err := writeFile(dir, "cpu.weight", utoa(SharesToWeight(*c.Shares))); err != nil {
			return err
		}
	}
	if set64(c.Quota) || setU64(c.Period) {
		v, err := cpuMax(dir, c)
		if err != nil {
			return err
		}
		if err := writeFile(dir, "cpu.max", v); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := writeFile(dir, "cpu.max.burst", utoa(*c.Burst)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", itoa(*c.Idle)); err != nil {
			return err
		}
	}
	return nil
}

// cpuMax formats cpu.max. A quota alone keeps the period in force (the kernel
// reads a single value as the quota); a period alone keeps the quota in
// force, which is the only case that reads the file.
func cpuMax(dir string, c *specs.LinuxCPU) (string, error) {
	quota := ""
	if set64(c.Quota) {
		quota = maxOr(*c.Quota)
	}
	if !setU64(c.Period) {
		return quota, nil
	}
	if quota == "" {
		cur, err := readFile(dir, "cpu.max")
		if err != nil {
			return "", err
		}
		quota, _, _ = strings.Cut(cur, " ")
		if quota == "" {
			quota = "max"
		}
	}
	return quota + " " + utoa(*c.Period), nil
}

// setCpuset writes cpuset.cpus and cpuset.mems (same names on v1 and v2).
func (m *manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || (c.Cpus == "" && c.Mems == "") {
		return nil
	}
	dir, v2, err := m.controller("cpuset")
	if err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", c.Cpus); err != nil {
			return cpusetErr(v2, err)
		}
	}
	if c.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", c.Mems); err != nil {
			return cpusetErr(v2, err)
		}
	}
	return nil
}

func cpusetErr(v2 bool, err error) error {
	if v2 {
		return unavailable("cpuset", err)
	}
	return err
}
