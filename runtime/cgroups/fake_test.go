package cgroups

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A fake cgroupfs: directories and empty regular files in a temp dir, plus a
// mountinfo and a /proc/self/cgroup that describe it. Writes open files
// without O_CREAT, so writing a file the fake (like the kernel) lacks fails.

// v1Files are the interface files of a child cgroup per v1 mount, as this
// kernel has them (no CFQ: only blkio.bfq.weight).
var v1Files = map[string][]string{
	"cpu":              {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle", "cpu.stat"},
	"cpuacct":          {"cpuacct.usage", "cpuacct.stat"},
	"cpuset":           {"cpuset.cpus", "cpuset.mems"},
	"memory":           {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.swappiness", "memory.oom_control", "memory.use_hierarchy", "memory.kmem.limit_in_bytes", "memory.stat"},
	"devices":          {"devices.allow", "devices.deny", "devices.list"},
	"freezer":          {"freezer.state"},
	"blkio":            {"blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"},
	"pids":             {"pids.max", "pids.current"},
	"hugetlb":          {"hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes", "hugetlb.1GB.limit_in_bytes"},
	"net_cls,net_prio": {"net_cls.classid", "net_prio.ifpriomap"},
	"rdma":             {"rdma.max"},
	"systemd":          nil,
}

// v2Files are the files of a child cgroup in a unified hierarchy with every
// controller enabled (io.weight but no io.bfq.weight: no BFQ).
var v2Files = []string{
	"cgroup.subtree_control", "cgroup.freeze", "cgroup.events", "cgroup.kill",
	"memory.max", "memory.swap.max", "memory.low", "memory.current", "memory.oom.group",
	"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle",
	"cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
	"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "rdma.max",
}

type fakeTree struct {
	root, mountinfo, self string
	layout                string
	mounts                map[string]string // v1 mount dir name → options; "" for unified
}

func newFake(t *testing.T, layout string) *fakeTree {
	t.Helper()
	base := t.TempDir()
	f := &fakeTree{root: filepath.Join(base, "cgroup"), layout: layout, mounts: map[string]string{}}
	var mi []string
	mi = append(mi, "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw")
	mi = append(mi, fmt.Sprintf("30 26 0:27 / %s rw,relatime - tmpfs tmpfs rw,mode=755", f.root))
	var self []string
	if layout == V1 || layout == Hybrid {
		names := []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"}
		if layout == V1 {
			names = append(names, "hugetlb", "net_cls,net_prio", "rdma")
		}
		for i, n := range names {
			opts := "rw," + n
			if n == "systemd" {
				opts = "rw,xattr,name=systemd"
			}
			f.mounts[n] = opts
			mi = append(mi, fmt.Sprintf("%d 30 0:%d / %s/%s rw,nosuid - cgroup cgroup %s", 31+i, 28+i, f.root, n, opts))
			self = append(self, fmt.Sprintf("%d:%s:/", 12-i, strings.TrimPrefix(opts, "rw,")))
		}
	}
	switch layout {
	case Hybrid:
		f.mounts[""] = "hugetlb"
		mi = append(mi, fmt.Sprintf("50 30 0:50 / %s/unified rw - cgroup2 cgroup2 rw", f.root))
		self = append(self, "0::/")
	case V2:
		f.mounts[""] = "cpuset cpu io memory hugetlb pids rdma misc"
		mi = mi[:1] // cgroup2 mounted at the root itself
		mi = append(mi, fmt.Sprintf("30 26 0:27 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate", f.root))
		self = append(self, "0::/")
	}
	for n := range f.mounts {
		dir := f.mountDir(n)
		mkdir(t, dir)
		touch(t, dir, "cgroup.procs")
	}
	if d, ok := f.mounts[""]; ok {
		write(t, f.mountDir(""), "cgroup.controllers", d)
		touch(t, f.mountDir(""), "cgroup.subtree_control")
	}
	if _, ok := f.mounts["cpuset"]; ok {
		write(t, f.mountDir("cpuset"), "cpuset.cpus", "0-3")
		write(t, f.mountDir("cpuset"), "cpuset.mems", "0")
	}
	f.mountinfo = filepath.Join(base, "mountinfo")
	write(t, base, "mountinfo", strings.Join(mi, "\n")+"\n")
	f.self = filepath.Join(base, "self-cgroup")
	write(t, base, "self-cgroup", strings.Join(self, "\n")+"\n")
	return f
}

// mountDir is where the fake mounts hierarchy n ("" = unified).
func (f *fakeTree) mountDir(n string) string {
	switch {
	case n != "":
		return filepath.Join(f.root, n)
	case f.layout == V2:
		return f.root
	default:
		return filepath.Join(f.root, "unified")
	}
}

// seed creates the container's cgroup cg ("/a/b") in every hierarchy with
// the files a kernel would show, parents included.
func (f *fakeTree) seed(t *testing.T, cg string) {
	t.Helper()
	for n := range f.mounts {
		dir := f.mountDir(n)
		for _, elem := range strings.Split(strings.Trim(cg, "/"), "/") {
			dir = filepath.Join(dir, elem)
			mkdir(t, dir)
			touch(t, dir, "cgroup.procs")
			if n == "" {
				touch(t, dir, v2Files...)
			} else {
				touch(t, dir, v1Files[n]...)
			}
		}
	}
}

func (f *fakeTree) options(path string) Options {
	return Options{Root: f.root, Mountinfo: f.mountinfo, ProcCgroup: f.self, Path: path, ID: "ctr"}
}

func (f *fakeTree) manager(t *testing.T, path string) *manager {
	t.Helper()
	m, err := New(f.options(path))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mm := m.(*manager)
	mm.attachDevices = func(string, []insn) error { return fmt.Errorf("no bpf in a fake tree") }
	return mm
}

// snapshot maps every non-empty regular file below root (relative path) to
// its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(b) > 0 {
			rel, _ := filepath.Rel(root, p)
			s[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// changes runs fn and returns the files whose content it changed.
func changes(t *testing.T, root string, fn func() error) (map[string]string, error) {
	t.Helper()
	before := snapshot(t, root)
	err := fn()
	after := snapshot(t, root)
	out := map[string]string{}
	for k, v := range after {
		if before[k] != v {
			out[k] = v
		}
	}
	return out, err
}

func diffFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("%s: not written, want %q", k, w)
		case !wok:
			t.Errorf("%s: got %q written, want no write", k, g)
		case g != w:
			t.Errorf("%s: got %q, want %q", k, g, w)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func touch(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func write(t *testing.T, dir, file, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func boolp(v bool) *bool   { return &v }

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
