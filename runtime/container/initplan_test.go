package container

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// planOps decodes a plan as initplan.c does and renders each op as a line
// "TAG ints... | strings..."; process records are left out.
func planOps(t *testing.T, b []byte) []string {
	t.Helper()
	if len(b) < 4 || string(b[:4]) != "BIN1" {
		t.Fatalf("got magic %q, want BIN1", b[:min(4, len(b))])
	}
	names := map[uint32]string{
		planHostMnt: "hostmnt", planCgroupns: "cgroupns", planMountPath: "mountpath", planBindRoot: "bindroot",
		planMount: "mount", planDevice: "device", planSymlink: "symlink", planMkdir: "mkdir", planPivot: "pivot",
		planSysctl: "sysctl", planROPath: "ropath", planMask: "mask", planRORoot: "roroot", planUTS: "uts",
		planKeyring: "keyring",
	}
	var out []string
	for off := 4; off < len(b); {
		if len(b)-off < 8 {
			t.Fatalf("truncated record header at %d", off)
		}
		tag, n := binary.NativeEndian.Uint32(b[off:]), int(binary.NativeEndian.Uint32(b[off+4:]))
		off += 8
		if n > len(b)-off {
			t.Fatalf("record %d of %d bytes overruns the plan", tag, n)
		}
		v := b[off : off+n]
		off += n
		name, ok := names[tag]
		if !ok {
			if tag > blobOOMScore {
				t.Fatalf("unknown record %d", tag)
			}
			continue // a process record (execblob_test.go checks those)
		}
		if len(v) < 8 {
			t.Fatalf("%s: op of %d bytes", name, len(v))
		}
		ni, ns := int(binary.NativeEndian.Uint32(v)), int(binary.NativeEndian.Uint32(v[4:]))
		if len(v) < 8+8*ni {
			t.Fatalf("%s: %d ints overrun the op", name, ni)
		}
		line := name
		for i := 0; i < ni; i++ {
			line += fmt.Sprintf(" %#x", binary.NativeEndian.Uint64(v[8+8*i:]))
		}
		strs := strings.Split(string(v[8+8*ni:]), "\x00")
		if len(strs) != ns+1 || strs[ns] != "" {
			t.Fatalf("%s: got strings %q, want %d ending in NUL", name, strs, ns)
		}
		if ns > 0 {
			line += " | " + strings.Join(strs[:ns], " | ")
		}
		out = append(out, line)
	}
	return out
}

func planSpec() *specs.Spec {
	mode := os.FileMode(0o640)
	uid := uint32(7)
	return &specs.Spec{
		Root:     &specs.Root{Path: "/b/rootfs", Readonly: true},
		Hostname: "box",
		Process:  &specs.Process{Args: []string{"/bin/true"}, Cwd: "/work", Env: []string{"PATH=/bin"}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/data", Type: "bind", Source: "data", Options: []string{"ro", "rprivate"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "rnoexec"}},
		},
		Linux: &specs.Linux{
			Namespaces:    []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}},
			Devices:       []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid}},
			Sysctl:        map[string]string{"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"},
			MaskedPaths:   []string{"/proc/kcore"},
			ReadonlyPaths: []string{"/proc/sys"},
		},
	}
}

func TestEncodeInitPlan(t *testing.T) {
	cfg := &initConfig{
		ID: "c1", Bundle: "/b", NewCgroupns: true, CgroupRoot: "/cg",
		CgroupPaths: map[string]string{"memory": "/cg/memory/c1", "cpu": "/cg/cpu,cpuacct/c1", "cpuacct": "/cg/cpu,cpuacct/c1"},
	}
	blob, ok := encodeInitPlan(cfg, planSpec(), unix.Stat_t{Dev: 5, Ino: 9})
	if !ok {
		t.Fatal("encodeInitPlan refused the plan")
	}
	got := planOps(t, blob)
	ro, nosuid, bind, rec := unix.MS_RDONLY, unix.MS_NOSUID, unix.MS_BIND, unix.MS_REC
	hardened := ro | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	h := func(v int) string { return fmt.Sprintf("%#x", v) }
	want := []string{
		"hostmnt 0x5 0x9",
		"cgroupns",
		"mountpath " + h(unix.MS_SLAVE|rec) + " |  | / |  |  | set propagation of / in container",
		"bindroot | /b/rootfs",
		"mount 0x1 0x0 0x0 0x0 0x0 0x0 0x1 0x0 | /proc | proc | proc |  | mount /proc | mount proc (proc) on /proc |  | ",
		"mount 0x3 " + h(bind|rec) + " 0x0 " + h(ro) + " 0x0 0x0 0x0 0x1 " + h(unix.MS_PRIVATE|rec) +
			" | /data | /b/data |  |  | mount /data | bind mount /b/data on /data |  | ",
		"mount 0x1 " + h(ro|nosuid) + " " + h(ro|nosuid) + " 0x0 0x0 0x0 0x0 0x0 | /sys | sysfs | sysfs |  | mount /sys | mount sysfs (sysfs) on /sys | /sys | ",
		"mount 0x1 0x0 0x0 0x0 0x0 0x0 0x0 0x0 | /sys/fs/cgroup | tmpfs | tmpfs | mode=755 | mount /sys/fs/cgroup | mount tmpfs for cgroups on /sys/fs/cgroup |  | ",
		"mount 0x1 " + h(bind|rec) + " 0x0 " + h(hardened) + " 0x0 0x0 0x0 0x0 | /sys/fs/cgroup/cpu,cpuacct | /cg/cpu,cpuacct/c1 |  |  | mount cgroup /sys/fs/cgroup/cpu,cpuacct | bind cgroup /cg/cpu,cpuacct/c1 on /sys/fs/cgroup/cpu,cpuacct |  | ",
		"symlink 0x1 | /sys/fs/cgroup | cpu | cpu,cpuacct | ",
		"symlink 0x1 | /sys/fs/cgroup | cpuacct | cpu,cpuacct | ",
		"mount 0x1 " + h(bind|rec) + " 0x0 " + h(hardened) + " 0x0 0x0 0x0 0x0 | /sys/fs/cgroup/memory | /cg/memory/c1 |  |  | mount cgroup /sys/fs/cgroup/memory | bind cgroup /cg/memory/c1 on /sys/fs/cgroup/memory |  | ",
		"mount 0x0 0x0 0x0 " + h(ro) + " 0x0 0x0 0x0 0x0 | /sys/fs/cgroup |  |  |  |  |  |  | ",
		"mount 0x0 0x0 0x0 0x0 " + h(unix.MOUNT_ATTR_NOEXEC) + " 0x0 0x0 0x0 | /sys/fs/cgroup |  |  |  |  |  |  | ",
	}
	for _, d := range defaultDevices {
		dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
		want = append(want, fmt.Sprintf("device %#x %#x 0xffffffffffffffff 0xffffffffffffffff | %s | /dev | %s", unix.S_IFCHR|0o666, dev, d.Path, d.Path[5:]))
	}
	want = append(want, fmt.Sprintf("device %#x %#x 0x7 0xffffffffffffffff | /dev/fuse | /dev | fuse", unix.S_IFCHR|0o640, unix.Mkdev(10, 229)))
	for _, l := range devSymlinks {
		want = append(want, fmt.Sprintf("symlink 0x0 | /dev | %s | %s | symlink /dev/%s", l.name, l.target, l.name))
	}
	want = append(want,
		"mkdir | /work | create cwd /work",
		"pivot 0x0 | /b/rootfs",
		"sysctl | kernel.msgmax | 8192 | /proc/sys/kernel/msgmax",
		"sysctl | net.ipv4.ip_forward | 1 | /proc/sys/net/ipv4/ip_forward",
		"ropath | /proc/sys",
		"mask | /proc/kcore",
		"roroot",
		"uts 0x0 | box",
		"keyring | _ses.c1",
	)
	if len(got) != len(want) {
		t.Errorf("got %d ops, want %d", len(got), len(want))
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("op %d:\n got %s\nwant %s", i, g, w)
		}
	}
	recs := records(t, append([]byte("BEX1"), blob[4:]...))
	if args := recs[blobArg]; len(args) != 1 || string(args[0]) != "/bin/true\x00" {
		t.Errorf("args: got %q, want [/bin/true]", args)
	}
}

func TestEncodeInitPlanVariants(t *testing.T) {
	base := func(f func(*specs.Spec, *initConfig)) (*specs.Spec, *initConfig) {
		s := planSpec()
		s.Mounts = s.Mounts[:1]
		cfg := &initConfig{ID: "c1", Bundle: "/b"}
		f(s, cfg)
		return s, cfg
	}
	for _, tc := range []struct {
		name   string
		change func(*specs.Spec, *initConfig)
		ok     bool
		want   []string // lines that must be in the plan
	}{
		{"no pivot", func(s *specs.Spec, c *initConfig) { c.NoPivot = true }, true, []string{"pivot 0x1 | /b/rootfs"}},
		{"no new keyring", func(s *specs.Spec, c *initConfig) { c.NoNewKeyring = true }, true, nil},
		{"rootfs propagation", func(s *specs.Spec, c *initConfig) { s.Linux.RootfsPropagation = "rprivate" }, true, []string{
			fmt.Sprintf("mountpath %#x |  | / |  |  | set propagation of / in container", unix.MS_PRIVATE|unix.MS_REC),
			fmt.Sprintf("mountpath %#x |  | / |  |  | set rootfsPropagation rprivate of /", unix.MS_PRIVATE|unix.MS_REC),
		}},
		{"bound /dev: no default devices", func(s *specs.Spec, c *initConfig) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev"})
			s.Linux.Devices = nil
		}, true, nil},
		{"cgroup v2 in a cgroup namespace", func(s *specs.Spec, c *initConfig) {
			c.NewCgroupns, c.CgroupPaths = true, map[string]string{"": "/cg/c1"}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Options: []string{"nosuid"}})
		}, true, []string{fmt.Sprintf("mount 0x1 %#x 0x0 0x0 0x0 0x0 0x0 0x0 | /sys/fs/cgroup | cgroup2 | cgroup2 |  | mount /sys/fs/cgroup | mount cgroup2 on /sys/fs/cgroup |  | ", unix.MS_NOSUID)}},
		{"cgroup v2 bound", func(s *specs.Spec, c *initConfig) {
			c.CgroupPaths = map[string]string{"": "/cg/c1"}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Options: []string{"ro"}})
		}, true, []string{fmt.Sprintf("mount 0x1 %#x 0x0 0x1 0x0 0x0 0x0 0x0 | /sys/fs/cgroup | /cg/c1 |  |  | mount /sys/fs/cgroup | mount cgroup2 on /sys/fs/cgroup |  | mount cgroup2 on /sys/fs/cgroup", unix.MS_BIND|unix.MS_REC)}},
		{"shared rootfs propagation", func(s *specs.Spec, c *initConfig) { s.Linux.RootfsPropagation = "rshared" }, false, nil},
		{"non-recursive propagation", func(s *specs.Spec, c *initConfig) { s.Linux.RootfsPropagation = "private" }, false, nil},
		{"tmpcopyup", func(s *specs.Spec, c *initConfig) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/run", Type: "tmpfs", Options: []string{"tmpcopyup"}})
		}, false, nil},
		{"idmap", func(s *specs.Spec, c *initConfig) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/d", Type: "bind", Source: "/d", Options: []string{"idmap"}})
		}, false, nil},
		{"unknown device type", func(s *specs.Spec, c *initConfig) { s.Linux.Devices[0].Type = "x" }, false, nil},
		{"NUL in a destination", func(s *specs.Spec, c *initConfig) { s.Mounts[0].Destination = "/pr\x00oc" }, false, nil},
		{"NUL in an argument", func(s *specs.Spec, c *initConfig) { s.Process.Args = []string{"a\x00b"} }, false, nil},
		{"unknown rlimit", func(s *specs.Spec, c *initConfig) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}}
		}, false, nil},
		{"too large", func(s *specs.Spec, c *initConfig) { s.Process.Env = []string{strings.Repeat("x", maxPacket)} }, false, nil},
	} {
		s, cfg := base(tc.change)
		blob, ok := encodeInitPlan(cfg, s, unix.Stat_t{})
		if ok != tc.ok {
			t.Errorf("%s: got ok %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		ops := strings.Join(planOps(t, blob), "\n")
		for _, w := range tc.want {
			if !strings.Contains(ops, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, ops)
			}
		}
		if hasKeyring := strings.Contains(ops, "keyring | _ses.c1"); hasKeyring == cfg.NoNewKeyring {
			t.Errorf("%s: got keyring op %v, want %v", tc.name, hasKeyring, !cfg.NoNewKeyring)
		}
		if hasDevs := strings.Contains(ops, "device "); hasDevs != (tc.name != "bound /dev: no default devices") {
			t.Errorf("%s: got device ops %v", tc.name, hasDevs)
		}
	}
}

func TestCInitEligible(t *testing.T) {
	mnt := nsPlan{newFlags: unix.CLONE_NEWNS}
	for _, tc := range []struct {
		name   string
		opts   CreateOpts
		plan   nsPlan
		change func(*specs.Spec)
		want   bool
	}{
		{"common", CreateOpts{}, mnt, func(*specs.Spec) {}, true},
		{"BERTH_INIT=go", CreateOpts{GoInit: true}, mnt, func(*specs.Spec) {}, false},
		{"no mount namespace of its own", CreateOpts{}, nsPlan{}, func(*specs.Spec) {}, false},
		{"user namespace", CreateOpts{}, nsPlan{newFlags: unix.CLONE_NEWNS, userns: true}, func(*specs.Spec) {}, false},
		{"terminal", CreateOpts{}, mnt, func(s *specs.Spec) { s.Process.Terminal = true }, false},
		{"mount label", CreateOpts{}, mnt, func(s *specs.Spec) { s.Linux.MountLabel = "x" }, false},
		{"createRuntime hook", CreateOpts{}, mnt, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/h"}}}
		}, false},
		{"createContainer hook", CreateOpts{}, mnt, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/h"}}}
		}, false},
		{"startContainer hook", CreateOpts{}, mnt, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/h"}}}
		}, false},
		{"poststart hook", CreateOpts{}, mnt, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/h"}}}
		}, true},
		{"personality", CreateOpts{}, mnt, func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{} }, false},
	} {
		s := planSpec()
		tc.change(s)
		if got := cInitEligible(tc.opts, s, tc.plan); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
