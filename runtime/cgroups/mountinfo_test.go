package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The development machines' mountinfo, verbatim.
const hybridMountinfo = `21 26 0:20 / /proc rw,relatime - proc proc rw
22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseMountinfo(t *testing.T) {
	m := func(dir string) mount { return mount{dir: dir, root: "/"} }
	tests := []struct {
		name    string
		data    string
		root    string
		mode    string
		v1      map[string]mount
		unified *mount
	}{
		{
			name: "hybrid, this machine",
			data: hybridMountinfo, root: "/sys/fs/cgroup", mode: Hybrid,
			v1: map[string]mount{
				"cpu": m("/sys/fs/cgroup/cpu"), "cpuacct": m("/sys/fs/cgroup/cpuacct"),
				"cpuset": m("/sys/fs/cgroup/cpuset"), "memory": m("/sys/fs/cgroup/memory"),
				"devices": m("/sys/fs/cgroup/devices"), "freezer": m("/sys/fs/cgroup/freezer"),
				"blkio": m("/sys/fs/cgroup/blkio"), "pids": m("/sys/fs/cgroup/pids"),
				"name=systemd": m("/sys/fs/cgroup/systemd"),
			},
			unified: &mount{"/sys/fs/cgroup/unified", "/"},
		},
		{
			name: "the unified mount alone is pure v2",
			data: hybridMountinfo, root: "/sys/fs/cgroup/unified", mode: V2,
			v1: map[string]mount{}, unified: &mount{"/sys/fs/cgroup/unified", "/"},
		},
		{
			name: "v1 with co-mounted controllers, xattr and a mount root",
			data: `30 22 0:27 / /sys/fs/cgroup ro - tmpfs tmpfs ro
31 30 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,xattr,cpu,cpuacct
32 30 0:29 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,clone_children,net_cls,net_prio
`,
			root: "/sys/fs/cgroup", mode: V1,
			v1: map[string]mount{
				"cpu":      {"/sys/fs/cgroup/cpu,cpuacct", "/docker/abc"},
				"cpuacct":  {"/sys/fs/cgroup/cpu,cpuacct", "/docker/abc"},
				"net_cls":  m("/sys/fs/cgroup/net_cls,net_prio"),
				"net_prio": m("/sys/fs/cgroup/net_cls,net_prio"),
			},
		},
		{
			name: "pure v2; a later mount hides an earlier one; other roots ignored",
			data: `29 22 0:26 / /sys/fs/cgroup rw - cgroup cgroup rw,memory
30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
31 26 0:28 / /elsewhere rw - cgroup cgroup rw,pids
`,
			root: "/sys/fs/cgroup", mode: V2,
			v1: map[string]mount{}, unified: &mount{"/sys/fs/cgroup", "/"},
		},
		{
			name: "escaped mount point",
			data: `40 30 0:37 / /my\040cgroup rw - cgroup2 cgroup2 rw
`,
			root: "/my cgroup", mode: V2,
			v1: map[string]mount{}, unified: &mount{"/my cgroup", "/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseMountinfo(tt.data, tt.root)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.mode(); got != tt.mode {
				t.Errorf("got mode %s, want %s", got, tt.mode)
			}
			if !reflect.DeepEqual(l.v1, tt.v1) {
				t.Errorf("got v1 %v, want %v", l.v1, tt.v1)
			}
			if !reflect.DeepEqual(l.unified, tt.unified) {
				t.Errorf("got unified %v, want %v", l.unified, tt.unified)
			}
		})
	}
}

func TestModeErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(p, []byte("26 1 254:0 / / rw - ext4 /dev/vda rw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Mode("/sys/fs/cgroup", p); err == nil || !strings.Contains(err.Error(), "no cgroup controller is mounted under /sys/fs/cgroup") {
		t.Errorf("got %v, want a no-controller error", err)
	}
	if _, err := Mode("", filepath.Join(dir, "missing")); err == nil {
		t.Error("got no error for a missing mountinfo")
	}
	for _, layout := range []string{V1, V2, Hybrid} {
		f := newFake(t, layout)
		if got, err := Mode(f.root, f.mountinfo); err != nil || got != layout {
			t.Errorf("Mode of a fake %s tree: got %q, %v", layout, got, err)
		}
	}
}

func TestSystemdPath(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "system.slice:docker:abc", want: "/system.slice/docker-abc.scope"},
		{in: ":crio:abc", want: "/system.slice/crio-abc.scope"},
		{in: "-.slice:p:n", want: "/p-n.scope"},
		{in: "user.slice::n", want: "/user.slice/n.scope"},
		{in: "a-b-c.slice:p:n", want: "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"},
		{in: "a--b.slice:p:n", err: "invalid slice name"},
		{in: "-a.slice:p:n", err: "invalid slice name"},
		{in: "system:p:n", err: "invalid slice name"},
		{in: "x/y.slice:p:n", err: "invalid slice name"},
		{in: "system.slice:p:", err: "invalid name"},
		{in: "system.slice:p:..", err: "invalid name"},
		{in: "system.slice:p:sub.slice", err: "not supported"},
		{in: "system.slice:a/b:n", err: "invalid prefix"},
	}
	for _, tt := range tests {
		got, err := systemdPath(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("systemdPath(%q): got %q, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("systemdPath(%q): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
