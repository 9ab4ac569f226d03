package cgroups

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The OCI memory limits are cgroup v1's: limit (memory.limit_in_bytes),
// swap = memory+swap (memory.memsw.limit_in_bytes), reservation
// (memory.soft_limit_in_bytes); -1 is unlimited and 0 is "not set". v2 has
// memory.max, memory.swap.max (swap alone) and memory.low. Kernel and kernel
// TCP limits are obsolete (no effect since Linux 5.4, absent from v2) and
// are ignored without error; so are swappiness, disableOOMKiller and
// useHierarchy on v2, which has no such knobs.

func (m *manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	needed := set64(mem.Limit) || set64(mem.Swap) || set64(mem.Reservation) || mem.Swappiness != nil ||
		(mem.DisableOOMKiller != nil && *mem.DisableOOMKiller) || mem.UseHierarchy != nil
	if !needed {
		return nil
	}
	dir, v2, err := m.controller("memory")
	if err != nil {
		return err
	}
	if v2 {
		return unavailable("memory", setMemoryV2(dir, mem))
	}
	return setMemoryV1(dir, mem)
}

// memoryLimits returns limit and memory+swap, 0 meaning "not set". An
// unlimited limit without a swap value makes swap unlimited too: a finite
// memsw below an unlimited limit is invalid on v1.
func memoryLimits(mem *specs.LinuxMemory) (limit, swap int64, err error) {
	if set64(mem.Limit) {
		limit = *mem.Limit
	}
	if set64(mem.Swap) {
		swap = *mem.Swap
	}
	if limit < -1 || swap < -1 {
		return 0, 0, fmt.Errorf("invalid memory limit %d or memory+swap limit %d", limit, swap)
	}
	if limit == -1 && swap == 0 {
		swap = -1
	}
	if limit > 0 && swap > 0 && swap < limit {
		return 0, 0, fmt.Errorf("memory+swap limit %d is lower than memory limit %d", swap, limit)
	}
	return limit, swap, nil
}

func setMemoryV1(dir string, mem *specs.LinuxMemory) error {
	limit, swap, err := memoryLimits(mem)
	if err != nil {
		return err
	}
	// The kernel keeps memsw >= limit at every step, so the order matters:
	// raising both needs memsw first, lowering both needs limit first. The
	// current values are not read: try limit first and swap the order on
	// EINVAL.
	switch {
	case swap == -1:
		if err := writeFile(dir, "memory.memsw.limit_in_bytes", "-1"); err != nil && !notExist(err) {
			return err
		}
		if limit != 0 {
			if err := writeFile(dir, "memory.limit_in_bytes", itoa(limit)); err != nil {
				return err
			}
		}
	case limit != 0 && swap != 0:
		err := writeFile(dir, "memory.limit_in_bytes", itoa(limit))
		if errors.Is(err, unix.EINVAL) {
			if err := writeSwapV1(dir, swap); err != nil {
				return err
			}
			err = writeFile(dir, "memory.limit_in_bytes", itoa(limit))
		} else if err == nil {
			err = writeSwapV1(dir, swap)
		}
		if err != nil {
			return err
		}
	case limit != 0:
		if err := writeFile(dir, "memory.limit_in_bytes", itoa(limit)); err != nil {
			return err
		}
	case swap != 0:
		if err := writeSwapV1(dir, swap); err != nil {
			return err
		}
	}
	if set64(mem.Reservation) {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", itoa(*mem.Reservation)); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if err := writeFile(dir, "memory.swappiness", utoa(*mem.Swappiness)); err != nil {
			return err
		}
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		if err := writeFile(dir, "memory.oom_control", "1"); err != nil {
			return err
		}
	}
	if mem.UseHierarchy != nil {
		v := "0"
		if *mem.UseHierarchy {
			v = "1"
		}
		if err := writeFile(dir, "memory.use_hierarchy", v); err != nil {
			return err
		}
	}
	return nil
}

func writeSwapV1(dir string, swap int64) error {
	err := writeFile(dir, "memory.memsw.limit_in_bytes", itoa(swap))
	if notExist(err) {
		return fmt.Errorf("memory+swap limit needs swap accounting (boot with swapaccount=1): %w", err)
	}
	return err
}

// swapV2 converts the OCI memory+swap limit to cgroup v2's memory.swap.max
// (swap alone) given the memory limit: swap - limit. -1 stays -1
// (unlimited); 0 means not set. With an unlimited memory limit the value is
// used as is, and an unset swap follows an unlimited limit. A swap limit
// below the memory limit, or one without a memory limit, is an error.
func swapV2(swap, limit int64) (int64, error) {
	switch {
	case limit == -1 && swap == 0:
		return -1, nil
	case swap == -1 || swap == 0:
		return swap, nil
	case limit == -1:
		return swap, nil
	case limit == 0:
		return 0, errors.New("memory+swap limit needs a memory limit")
	case limit < 0 || swap < 0:
		return 0, fmt.Errorf("invalid memory limit %d or memory+swap limit %d", limit, swap)
	case swap < limit:
		return 0, fmt.Errorf("memory+swap limit %d is lower than memory limit %d", swap, limit)
	}
	return swap - limit, nil
}

func setMemoryV2(dir string, mem *specs.LinuxMemory) error {
	limit, swap, err := memoryLimits(mem)
	if err != nil {
		return err
	}
	if limit > 0 && mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate {
		// v2 would OOM-kill instead of refusing; the spec asks to refuse.
		cur, err := readUint(dir, "memory.current")
		if err != nil {
			return fmt.Errorf("check memory usage before update: %w", err)
		}
		if cur > uint64(limit) {
			return fmt.Errorf("memory limit %d is below the current usage %d of %s", limit, cur, dir)
		}
	}
	setSwap := swap != 0 // a converted swap of 0 (no swap at all) is a value
	if swap > 0 && limit == 0 {
		// Only swap is updated: the conversion needs the memory limit in force.
		cur, err := readFile(dir, "memory.max")
		if err != nil {
			return fmt.Errorf("read memory limit to convert swap: %w", err)
		}
		limit = -1
		if cur != "max" {
			if limit, err = parseInt(cur, dir+"/memory.max"); err != nil {
				return err
			}
		}
		if swap, err = swapV2(swap, limit); err != nil {
			return err
		}
		limit = 0 // leave memory.max as it is
	} else if swap, err = swapV2(swap, limit); err != nil {
		return err
	}
	if setSwap {
		err := writeFile(dir, "memory.swap.max", maxOr(swap))
		if err != nil && !(swap == -1 && notExist(err)) { // no swap at all is unlimited swap
			return err
		}
	}
	if limit != 0 {
		if err := writeFile(dir, "memory.max", maxOr(limit)); err != nil {
			return err
		}
	}
	if set64(mem.Reservation) {
		if err := writeFile(dir, "memory.low", maxOr(*mem.Reservation)); err != nil {
			return err
		}
	}
	return nil
}

// maxOr formats a v2 limit, where -1 (or any negative) is "max".
func maxOr(v int64) string {
	if v < 0 {
		return "max"
	}
	return itoa(v)
}
