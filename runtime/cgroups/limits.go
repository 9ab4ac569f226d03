package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setPids writes pids.max (same on v1 and v2): -1 (any negative) is "max";
// 0 is a real limit, as the spec says.
func (m *manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	dir, v2, err := m.controller("pids")
	if err != nil {
		return err
	}
	err = writeFile(dir, "pids.max", maxOr(*r.Pids.Limit))
	if v2 {
		return unavailable("pids", err)
	}
	return err
}

// setHugetlb writes the page-fault limit and, where the kernel has it, the
// reservation limit the spec prefers: hugetlb.<size>.limit_in_bytes and
// .rsvd.limit_in_bytes on v1, hugetlb.<size>.max and .rsvd.max on v2.
func (m *manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	dir, v2, err := m.controller("hugetlb")
	if err != nil {
		return err
	}
	limit, rsvd := ".limit_in_bytes", ".rsvd.limit_in_bytes"
	if v2 {
		limit, rsvd = ".max", ".rsvd.max"
	}
	for _, h := range r.HugepageLimits {
		if !validPageSize(h.Pagesize) {
			return fmt.Errorf("invalid hugepage size %q", h.Pagesize)
		}
		v := utoa(h.Limit)
		if err := writeFile(dir, "hugetlb."+h.Pagesize+limit, v); err != nil {
			if notExist(err) {
				return fmt.Errorf("hugepage size %s is not supported, or the hugetlb cgroup controller is not available: %w", h.Pagesize, err)
			}
			return err
		}
		if err := skipMissing(writeFile(dir, "hugetlb."+h.Pagesize+rsvd, v)); err != nil {
			return err
		}
	}
	return nil
}

// validPageSize accepts the kernel's names: digits then KB, MB or GB.
func validPageSize(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	switch s[i:] {
	case "KB", "MB", "GB", "TB", "PB":
		return true
	}
	return false
}

// setNetwork writes net_cls.classid and net_prio.ifpriomap, which exist only
// as cgroup v1 controllers.
func (m *manager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		h, ok := m.v1["net_cls"]
		if !ok {
			return fmt.Errorf("network classID needs the net_cls cgroup v1 controller, which is not mounted under %s", m.root)
		}
		if err := writeFile(h.dir, "net_cls.classid", utoa(uint64(*n.ClassID))); err != nil {
			return err
		}
	}
	if len(n.Priorities) > 0 {
		h, ok := m.v1["net_prio"]
		if !ok {
			return fmt.Errorf("network priorities need the net_prio cgroup v1 controller, which is not mounted under %s", m.root)
		}
		lines := make([]string, 0, len(n.Priorities))
		for _, p := range n.Priorities {
			if err := checkName(p.Name); err != nil || strings.ContainsAny(p.Name, " \n") {
				return fmt.Errorf("network priority: invalid interface name %q", p.Name)
			}
			lines = append(lines, fmt.Sprintf("%s %d", p.Name, p.Priority))
		}
		if err := writeLines(h.dir, "net_prio.ifpriomap", lines); err != nil {
			return err
		}
	}
	return nil
}

// setRdma writes rdma.max (v1 and v2): one "DEV hca_handle=N hca_object=M"
// line per device, in device name order.
func (m *manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	dir, v2, err := m.controller("rdma")
	if err != nil {
		return err
	}
	devs := make([]string, 0, len(r.Rdma))
	for d := range r.Rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	lines := make([]string, 0, len(devs))
	for _, d := range devs {
		if strings.ContainsAny(d, " \n") || d == "" {
			return fmt.Errorf("rdma: invalid device name %q", d)
		}
		l := r.Rdma[d]
		h, o := "max", "max"
		if l.HcaHandles != nil {
			h = utoa(uint64(*l.HcaHandles))
		}
		if l.HcaObjects != nil {
			o = utoa(uint64(*l.HcaObjects))
		}
		lines = append(lines, fmt.Sprintf("%s hca_handle=%s hca_object=%s", d, h, o))
	}
	err = writeLines(dir, "rdma.max", lines)
	if v2 {
		return unavailable("rdma", err)
	}
	return err
}

// setUnified writes each key of the OCI unified map as a file of the
// container's cgroup in the unified hierarchy (v2, or hybrid for the
// controllers bound there), in key order. Keys are file names, never paths.
func (m *manager) setUnified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	if m.v2.dir == "" {
		return errors.New("unified resources need cgroup v2, and no cgroup2 hierarchy is mounted")
	}
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkName(k); err != nil || filepath.Base(k) != k {
			return fmt.Errorf("unified resource %q: not a cgroup file name", k)
		}
		if err := writeFile(m.v2.dir, k, r.Unified[k]); err != nil {
			if notExist(err) {
				ctrl, _, _ := strings.Cut(k, ".")
				return fmt.Errorf("unified resource %q: %s cgroup controller is not available: %w", k, ctrl, err)
			}
			return err
		}
	}
	return nil
}
