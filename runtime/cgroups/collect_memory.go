package cgroups

import "math"

func (m *manager) memoryStats(s *Stats) error {
	dir, v2 := m.where("memory")
	if dir == "" {
		return nil
	}
	if v2 {
		return memoryV2(dir, &s.Memory)
	}
	return memoryV1(dir, &s.Memory)
}

func memoryV1(dir string, ms *MemoryStats) error {
	raw, err := readKV(dir, "memory.stat")
	if err != nil {
		return skipMissing(err)
	}
	ms.Raw, ms.Cache = raw, raw["cache"]
	for _, e := range []struct {
		prefix string
		dst    *MemoryEntry
	}{
		{"memory.", &ms.Usage},
		{"memory.memsw.", &ms.Swap}, // needs swap accounting
		{"memory.kmem.", &ms.Kernel},
		{"memory.kmem.tcp.", &ms.KernelTCP},
	} {
		if err := memoryEntryV1(dir, e.prefix, e.dst); err != nil {
			return err
		}
	}
	return nil
}

func memoryEntryV1(dir, prefix string, e *MemoryEntry) error {
	for _, f := range []struct {
		file string
		dst  *uint64
	}{
		{"usage_in_bytes", &e.Usage},
		{"max_usage_in_bytes", &e.Max},
		{"failcnt", &e.Failcnt},
		{"limit_in_bytes", &e.Limit},
	} {
		v, err := readUint(dir, prefix+f.file)
		if err != nil {
			if notExist(err) {
				continue
			}
			return err
		}
		*f.dst = v
	}
	return nil
}

// memoryV2 maps v2 files onto the v1 shape: usage is memory.current, max
// memory.peak (Linux 5.19+), failcnt the "max" count of memory.events, cache
// the "file" key of memory.stat; swap is memory+swap as on v1.
func memoryV2(dir string, ms *MemoryStats) error {
	raw, err := readKV(dir, "memory.stat")
	if err != nil {
		return skipMissing(err)
	}
	ms.Raw, ms.Cache = raw, raw["file"]
	for _, f := range []struct {
		file string
		dst  *uint64
	}{
		{"memory.current", &ms.Usage.Usage},
		{"memory.max", &ms.Usage.Limit},
		{"memory.peak", &ms.Usage.Max},
		{"memory.swap.current", &ms.Swap.Usage},
		{"memory.swap.max", &ms.Swap.Limit},
	} {
		v, err := readUint(dir, f.file)
		if err != nil {
			if notExist(err) {
				continue
			}
			return err
		}
		*f.dst = v
	}
	ev, err := readKV(dir, "memory.events")
	if err != nil && !notExist(err) {
		return err
	}
	ms.Usage.Failcnt = ev["max"]
	ms.Swap.Usage += ms.Usage.Usage
	ms.Swap.Limit = addSat(ms.Swap.Limit, ms.Usage.Limit)
	return nil
}

// addSat adds without wrapping: "max" (2^64-1) stays max.
func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
