package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNewPaths(t *testing.T) {
	tests := []struct {
		name   string
		layout string
		path   string
		want   map[string]string // key → dir below the fake root
	}{
		{"absolute v1", V1, "/berth/ctr", map[string]string{
			"cpu": "cpu/berth/ctr", "cpuacct": "cpuacct/berth/ctr", "cpuset": "cpuset/berth/ctr",
			"memory": "memory/berth/ctr", "devices": "devices/berth/ctr", "freezer": "freezer/berth/ctr",
			"blkio": "blkio/berth/ctr", "pids": "pids/berth/ctr", "hugetlb": "hugetlb/berth/ctr",
			"net_cls": "net_cls,net_prio/berth/ctr", "net_prio": "net_cls,net_prio/berth/ctr",
			"rdma": "rdma/berth/ctr", "name=systemd": "systemd/berth/ctr",
		}},
		{"absolute v2", V2, "/berth/ctr", map[string]string{"": "berth/ctr"}},
		{"hybrid joins unified", Hybrid, "/a", map[string]string{
			"cpu": "cpu/a", "cpuacct": "cpuacct/a", "cpuset": "cpuset/a", "memory": "memory/a",
			"devices": "devices/a", "freezer": "freezer/a", "blkio": "blkio/a", "pids": "pids/a",
			"name=systemd": "systemd/a", "": "unified/a",
		}},
		{"dot-dot stays inside", V2, "/../../etc/x/..", map[string]string{"": "etc"}},
		{"systemd syntax", V2, "system.slice:docker:abc", map[string]string{"": "system.slice/docker-abc.scope"}},
		{"systemd nested slice", V2, "machine-libpod_pod_1.slice:libpod:abc", map[string]string{"": "machine.slice/machine-libpod_pod_1.slice/libpod-abc.scope"}},
		{"relative v2", V2, "sub/ctr", map[string]string{"": "sub/ctr"}},
		{"empty is the id, relative", V2, "", map[string]string{"": "ctr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.layout)
			got := f.manager(t, tt.path).Paths()
			want := map[string]string{}
			for k, v := range tt.want {
				want[k] = filepath.Join(f.root, v)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// A relative path goes below the runtime's own cgroup of each hierarchy,
// minus the root the hierarchy is mounted from.
func TestRelativePathUnderOwnCgroup(t *testing.T) {
	f := newFake(t, Hybrid)
	// memory is mounted from /outer (as in a container) and we are in
	// /outer/runtime; cpu: we are in /svc; unified: /u.
	mi, _ := os.ReadFile(f.mountinfo)
	s := strings.Replace(string(mi), " / "+f.root+"/memory ", " /outer "+f.root+"/memory ", 1)
	write(t, filepath.Dir(f.mountinfo), "mountinfo", s)
	write(t, filepath.Dir(f.self), "self-cgroup", "12:cpu:/svc\n9:memory:/outer/runtime\n0::/u\n")
	m := f.manager(t, "ctr/x")
	p := m.Paths()
	for k, want := range map[string]string{
		"cpu":     f.root + "/cpu/svc/ctr/x",
		"memory":  f.root + "/memory/runtime/ctr/x",
		"pids":    f.root + "/pids/ctr/x",
		"":        f.root + "/unified/u/ctr/x",
		"cpuacct": f.root + "/cpuacct/ctr/x",
	} {
		if p[k] != want {
			t.Errorf("%q: got %s, want %s", k, p[k], want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	f := newFake(t, V2)
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Systemd: true}, "systemd cgroup driver is not supported yet; run without --systemd-cgroup"},
		{Options{Path: "/"}, "is the root cgroup"},
		{Options{Path: "."}, "runtime's own cgroup"},
		{Options{}, "empty cgroupsPath needs a container id"},
		{Options{Path: "a--b.slice:p:n"}, "invalid slice name"},
		{Options{Path: "system.slice:p:a/b"}, "invalid name"},
	}
	for _, tt := range tests {
		o := tt.o
		o.Root, o.Mountinfo, o.ProcCgroup = f.root, f.mountinfo, f.self
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): got %v, want an error containing %q", tt.o, err, tt.want)
		}
	}
	if _, err := New(Options{Systemd: true}); !errors.Is(err, ErrSystemd) {
		t.Errorf("got %v, want ErrSystemd", err)
	}
}

func TestApplyV1(t *testing.T) {
	f := newFake(t, V1)
	f.seed(t, "/berth/ctr")
	// /berth has an empty cpuset (created by someone else): both levels inherit.
	m := f.manager(t, "/berth/ctr")
	got, err := changes(t, f.root, func() error { return m.Apply(4242) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cpuset/berth/cpuset.cpus":     "0-3",
		"cpuset/berth/cpuset.mems":     "0",
		"cpuset/berth/ctr/cpuset.cpus": "0-3",
		"cpuset/berth/ctr/cpuset.mems": "0",
	}
	for n := range f.mounts {
		want[n+"/berth/ctr/cgroup.procs"] = "4242"
	}
	diffFiles(t, got, want)
}

func TestApplyCpusetKeepsOwnValues(t *testing.T) {
	f := newFake(t, V1)
	f.seed(t, "/berth/ctr")
	write(t, f.root+"/cpuset/berth", "cpuset.cpus", "2")
	m := f.manager(t, "/berth/ctr")
	got, err := changes(t, f.root, func() error { return m.Apply(-1) })
	if err != nil {
		t.Fatal(err)
	}
	diffFiles(t, got, map[string]string{
		"cpuset/berth/cpuset.mems":     "0",
		"cpuset/berth/ctr/cpuset.cpus": "2",
		"cpuset/berth/ctr/cpuset.mems": "0",
	})
}

func TestApplyV2EnablesControllers(t *testing.T) {
	f := newFake(t, V2)
	f.seed(t, "/a/b")
	m := f.manager(t, "/a/b")
	got, err := changes(t, f.root, func() error { return m.Apply(7) })
	if err != nil {
		t.Fatal(err)
	}
	all := "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"
	diffFiles(t, got, map[string]string{
		"cgroup.subtree_control":   all,
		"a/cgroup.subtree_control": all,
		"a/b/cgroup.procs":         "7",
	})
}

func TestApplyHybrid(t *testing.T) {
	f := newFake(t, Hybrid)
	f.seed(t, "/c")
	m := f.manager(t, "/c")
	got, err := changes(t, f.root, func() error { return m.Apply(9) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"unified/cgroup.subtree_control": "+hugetlb",
		"cpuset/c/cpuset.cpus":           "0-3",
		"cpuset/c/cpuset.mems":           "0",
	}
	for n := range f.mounts {
		if n == "" {
			n = "unified"
		}
		want[n+"/c/cgroup.procs"] = "9"
	}
	diffFiles(t, got, want)
}

// Apply creates missing directories itself and removes them again if it fails.
func TestApplyCreatesAndUndoes(t *testing.T) {
	f := newFake(t, V2)
	m := f.manager(t, "/new/ctr")
	// A plain directory has no cgroup.procs: moving the pid fails.
	if err := m.Apply(5); err == nil {
		t.Fatal("got no error, want one")
	}
	if _, err := os.Stat(f.root + "/new"); !os.IsNotExist(err) {
		t.Errorf("got %v for the created dir, want it removed", err)
	}
	if err := m.Apply(-1); err != nil {
		t.Fatalf("Apply without a pid: %v", err)
	}
	if !m.Exists() {
		t.Error("got Exists false after Apply, want true")
	}
}

func TestLoadRoundTrip(t *testing.T) {
	f := newFake(t, Hybrid)
	m := f.manager(t, "/berth/ctr")
	l, err := Load(f.options(""), m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Paths(), m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	bad := m.Paths()
	bad["memory"] = f.root + "/cpu/berth/ctr"
	if _, err := Load(f.options(""), bad); err == nil || !strings.Contains(err.Error(), "not inside") {
		t.Errorf("got %v, want a not-inside error", err)
	}
	bad = map[string]string{"memory": f.root + "/memory/../../etc"}
	if _, err := Load(f.options(""), bad); err == nil {
		t.Error("got no error for a path escaping the hierarchy")
	}
}

func TestPidsAndDestroy(t *testing.T) {
	f := newFake(t, V2)
	m := f.manager(t, "/c")
	dir := f.root + "/c"
	for _, d := range []string{dir, dir + "/sub", dir + "/sub/deeper"} {
		mkdir(t, d)
	}
	write(t, dir, "cgroup.procs", "10\n11\n")
	write(t, dir+"/sub", "cgroup.procs", "12\n")
	write(t, dir+"/sub/deeper", "cgroup.procs", "")
	pids, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	if want := []int{10, 11, 12}; !slices.Equal(pids, want) {
		t.Errorf("got pids %v, want %v", pids, want)
	}
	// Destroy removes cgroup directories (a real cgroupfs has no removable
	// files, so the fake one must not have any either).
	for _, d := range []string{dir, dir + "/sub", dir + "/sub/deeper"} {
		mustRemove(t, d+"/cgroup.procs")
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if m.Exists() {
		t.Error("got Exists true after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: got %v, want nil", err)
	}
}

func TestFreezerFake(t *testing.T) {
	t.Run("v1", func(t *testing.T) {
		f := newFake(t, V1)
		f.seed(t, "/c")
		m := f.manager(t, "/c")
		if err := m.Freeze(); err != nil {
			t.Fatal(err)
		}
		if s, _ := m.FreezerState(); s != Frozen {
			t.Errorf("got %s, want %s", s, Frozen)
		}
		if err := m.Thaw(); err != nil {
			t.Fatal(err)
		}
		if s, _ := m.FreezerState(); s != Thawed {
			t.Errorf("got %s, want %s", s, Thawed)
		}
	})
	t.Run("v2", func(t *testing.T) {
		f := newFake(t, V2)
		f.seed(t, "/c")
		m := f.manager(t, "/c")
		write(t, f.root+"/c", "cgroup.events", "populated 1\nfrozen 1\n")
		if err := m.Freeze(); err != nil {
			t.Fatal(err)
		}
		if got := snapshot(t, f.root)["c/cgroup.freeze"]; got != "1" {
			t.Errorf("got cgroup.freeze %q, want 1", got)
		}
		if s, _ := m.FreezerState(); s != Frozen {
			t.Errorf("got %s, want %s", s, Frozen)
		}
		write(t, f.root+"/c", "cgroup.events", "populated 1\nfrozen 0\n")
		if s, _ := m.FreezerState(); s != Freezing {
			t.Errorf("got %s, want %s", s, Freezing)
		}
		if err := m.Thaw(); err != nil {
			t.Fatal(err)
		}
		if s, _ := m.FreezerState(); s != Thawed {
			t.Errorf("got %s, want %s", s, Thawed)
		}
	})
}
