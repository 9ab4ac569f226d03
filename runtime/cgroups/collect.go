package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stats reads each controller from wherever it is mounted (v1 hierarchy or
// unified); PSI comes from the unified hierarchy when there is one. Files a
// kernel lacks are left out; a missing cgroup is an error.
func (m *manager) Stats() (*Stats, error) {
	d, err := m.procsDir()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(d); err != nil {
		return nil, fmt.Errorf("read cgroup stats: %w", err)
	}
	s := &Stats{Hugetlb: make(map[string]HugetlbStats)}
	steps := []struct {
		what string
		fn   func(*Stats) error
	}{
		{"cpu", m.cpuStats},
		{"memory", m.memoryStats},
		{"pids", m.pidsStats},
		{"blkio", m.blkioStats},
		{"hugetlb", m.hugetlbStats},
		{"pressure", m.psiStats},
	}
	for _, st := range steps {
		if err := st.fn(s); err != nil {
			return nil, fmt.Errorf("read %s stats: %w", st.what, err)
		}
	}
	return s, nil
}

// where returns the directory holding ctrl's files and whether it is the
// unified hierarchy, or "" when the controller is nowhere.
func (m *manager) where(ctrl string) (string, bool) {
	dir, v2, err := m.controller(ctrl)
	if err != nil {
		return "", false
	}
	return dir, v2
}

func (m *manager) cpuStats(s *Stats) error {
	acct, hasAcct := m.v1["cpuacct"]
	cpu, hasCPU := m.v1["cpu"]
	if hasAcct {
		if err := cpuacctV1(acct.dir, &s.CPU.Usage); err != nil {
			return err
		}
	}
	if hasCPU {
		st, err := readKV(cpu.dir, "cpu.stat")
		if err != nil && !notExist(err) {
			return err
		}
		s.CPU.Throttling = Throttling{st["nr_periods"], st["nr_throttled"], st["throttled_time"]}
	}
	if (hasAcct && hasCPU) || m.v2.dir == "" {
		return nil
	}
	// cpu.stat of cgroup2 always has the usage keys; the throttling ones
	// only with the cpu controller enabled.
	st, err := readKV(m.v2.dir, "cpu.stat")
	if err != nil {
		return skipMissing(err)
	}
	if !hasAcct {
		s.CPU.Usage.Total = st["usage_usec"] * 1000
		s.CPU.Usage.User = st["user_usec"] * 1000
		s.CPU.Usage.Kernel = st["system_usec"] * 1000
	}
	if !hasCPU {
		s.CPU.Throttling = Throttling{st["nr_periods"], st["nr_throttled"], st["throttled_usec"] * 1000}
	}
	return nil
}

// userHZ is the unit of cpuacct.stat: USER_HZ, 100 on every Linux ABI.
const userHZ = 100

func cpuacctV1(dir string, u *CPUUsage) error {
	var err error
	if u.Total, err = readUint(dir, "cpuacct.usage"); err != nil {
		return skipMissing(err)
	}
	for _, f := range []struct {
		file string
		dst  *[]uint64
	}{
		{"cpuacct.usage_percpu", &u.Percpu},
		{"cpuacct.usage_percpu_sys", &u.PercpuKernel},
		{"cpuacct.usage_percpu_user", &u.PercpuUser},
	} {
		if *f.dst, err = readUints(dir, f.file); err != nil && !notExist(err) {
			return err
		}
	}
	// Nanosecond totals exist since Linux 4.7; cpuacct.stat counts ticks.
	sys, err1 := readUint(dir, "cpuacct.usage_sys")
	usr, err2 := readUint(dir, "cpuacct.usage_user")
	if err1 == nil && err2 == nil {
		u.Kernel, u.User = sys, usr
		return nil
	}
	st, err := readKV(dir, "cpuacct.stat")
	if err != nil {
		return skipMissing(err)
	}
	u.Kernel = st["system"] * (1e9 / userHZ)
	u.User = st["user"] * (1e9 / userHZ)
	return nil
}

func readUints(dir, file string) ([]uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := parseUint(f, dir+"/"+file)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *manager) pidsStats(s *Stats) error {
	dir, _ := m.where("pids")
	if dir == "" {
		return nil
	}
	cur, err := readUint(dir, "pids.current")
	if err != nil {
		return skipMissing(err)
	}
	max, err := readUint(dir, "pids.max")
	if err != nil && !notExist(err) {
		return err
	}
	if max == ^uint64(0) {
		max = 0
	}
	s.Pids = PidsStats{Current: cur, Limit: max}
	return nil
}

func (m *manager) OOMKillCount() (uint64, error) {
	dir, v2, err := m.controller("memory")
	if err != nil {
		return 0, err
	}
	file := "memory.oom_control"
	if v2 {
		file = "memory.events"
	}
	kv, err := readKV(dir, file)
	if err != nil {
		return 0, fmt.Errorf("read oom kill count: %w", err)
	}
	return kv["oom_kill"], nil
}

func (m *manager) psiStats(s *Stats) error {
	if m.v2.dir == "" {
		return nil
	}
	for _, p := range []struct {
		file string
		dst  **PSIStats
	}{
		{"cpu.pressure", &s.CPU.PSI},
		{"memory.pressure", &s.Memory.PSI},
		{"io.pressure", &s.Blkio.PSI},
	} {
		psi, err := readPSI(m.v2.dir, p.file)
		if err != nil {
			return err
		}
		*p.dst = psi
	}
	return nil
}

// readPSI parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" lines;
// nil when the kernel has no PSI (missing file, or EOPNOTSUPP with psi=0).
func readPSI(dir, file string) (*PSIStats, error) {
	data, err := readFile(dir, file)
	if err != nil {
		if notExist(err) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, nil
		}
		return nil, err
	}
	var p PSIStats
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var d *PSIData
		switch f[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var err error
			switch k {
			case "avg10":
				d.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("parse %q in %s/%s: %w", kv, dir, file, err)
			}
		}
	}
	return &p, nil
}
