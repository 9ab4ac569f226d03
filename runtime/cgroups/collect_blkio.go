package cgroups

import (
	"os"
	"strconv"
	"strings"
)

func (m *manager) blkioStats(s *Stats) error {
	dir, v2 := m.where("blkio")
	if dir == "" {
		return nil
	}
	if v2 {
		return ioStatV2(dir, &s.Blkio)
	}
	return blkioV1(dir, &s.Blkio)
}

// blkioV1 reads the first family of files that has entries: CFQ's (gone
// since Linux 5.0), then BFQ's, then the throttling layer's, which counts
// every I/O but only bytes and operations.
func blkioV1(dir string, b *BlkioStats) error {
	type file struct {
		name string
		dst  *[]BlkioEntry
	}
	families := [][]file{
		{
			{"blkio.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.io_serviced_recursive", &b.IoServicedRecursive},
			{"blkio.io_queued_recursive", &b.IoQueuedRecursive},
			{"blkio.io_service_time_recursive", &b.IoServiceTimeRecursive},
			{"blkio.io_wait_time_recursive", &b.IoWaitTimeRecursive},
			{"blkio.io_merged_recursive", &b.IoMergedRecursive},
			{"blkio.time_recursive", &b.IoTimeRecursive},
			{"blkio.sectors_recursive", &b.SectorsRecursive},
		},
		{
			{"blkio.bfq.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.bfq.io_serviced_recursive", &b.IoServicedRecursive},
		},
		{
			{"blkio.throttle.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.throttle.io_serviced_recursive", &b.IoServicedRecursive},
		},
	}
	for _, fam := range families {
		for _, f := range fam {
			entries, err := readBlkio(dir, f.name)
			if err != nil && !notExist(err) {
				return err
			}
			*f.dst = entries
		}
		if len(b.IoServiceBytesRecursive) > 0 {
			return nil
		}
	}
	return nil
}

// readBlkio parses "8:0 Read 4096" (or "8:0 4096") lines; the trailing
// "Total N" line has no device and is skipped.
func readBlkio(dir, file string) ([]BlkioEntry, error) {
	data, err := os.ReadFile(dir + "/" + file)
	if err != nil {
		return nil, err
	}
	var out []BlkioEntry
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(f[0], ":") {
			continue
		}
		e, ok := parseDevice(f[0])
		if !ok {
			continue
		}
		if len(f) == 3 {
			e.Op = f[1]
		}
		v, err := parseUint(f[len(f)-1], dir+"/"+file)
		if err != nil {
			return nil, err
		}
		e.Value = v
		out = append(out, e)
	}
	return out, nil
}

func parseDevice(s string) (BlkioEntry, bool) {
	maj, min, ok := strings.Cut(s, ":")
	if !ok {
		return BlkioEntry{}, false
	}
	a, err1 := strconv.ParseUint(maj, 10, 64)
	b, err2 := strconv.ParseUint(min, 10, 64)
	return BlkioEntry{Major: a, Minor: b}, err1 == nil && err2 == nil
}

// ioStatV2 maps io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0
// dios=0") onto the v1 service bytes and serviced lists.
func ioStatV2(dir string, b *BlkioStats) error {
	data, err := os.ReadFile(dir + "/io.stat")
	if err != nil {
		return skipMissing(err)
	}
	ops := map[string]struct {
		op    string
		bytes bool
	}{
		"rbytes": {"Read", true}, "wbytes": {"Write", true}, "dbytes": {"Discard", true},
		"rios": {"Read", false}, "wios": {"Write", false}, "dios": {"Discard", false},
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		dev, ok := parseDevice(f[0])
		if !ok {
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			o, known := ops[k]
			if !known {
				continue
			}
			n, err := parseUint(v, dir+"/io.stat")
			if err != nil {
				return err
			}
			e := BlkioEntry{Major: dev.Major, Minor: dev.Minor, Op: o.op, Value: n}
			if o.bytes {
				b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
			} else {
				b.IoServicedRecursive = append(b.IoServicedRecursive, e)
			}
		}
	}
	return nil
}

// hugetlbStats finds the page sizes from the cgroup's own files
// (hugetlb.<size>.usage_in_bytes on v1, hugetlb.<size>.current on v2).
func (m *manager) hugetlbStats(s *Stats) error {
	dir, v2 := m.where("hugetlb")
	if dir == "" {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	suffix := ".usage_in_bytes"
	if v2 {
		suffix = ".current"
	}
	for _, e := range ents {
		size, ok := strings.CutPrefix(e.Name(), "hugetlb.")
		if !ok {
			continue
		}
		if size, ok = strings.CutSuffix(size, suffix); !ok || strings.Contains(size, ".") {
			continue // other files, and the .rsvd. ones
		}
		var h HugetlbStats
		if h.Usage, err = readUint(dir, e.Name()); err != nil {
			return err
		}
		if v2 {
			ev, err := readKV(dir, "hugetlb."+size+".events")
			if err != nil && !notExist(err) {
				return err
			}
			h.Failcnt = ev["max"]
		} else {
			if h.Max, err = readUint(dir, "hugetlb."+size+".max_usage_in_bytes"); err != nil && !notExist(err) {
				return err
			}
			if h.Failcnt, err = readUint(dir, "hugetlb."+size+".failcnt"); err != nil && !notExist(err) {
				return err
			}
		}
		s.Hugetlb[size] = h
	}
	return nil
}
