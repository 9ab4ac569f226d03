package runtime_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// runArgs runs b with process.args set to args and returns the result.
func (r *rt) runArgs(b *testbundle.Bundle, args ...string) result {
	r.t.Helper()
	b.Spec.Process.Args = args
	b.Save(r.t)
	return r.run("run", "--bundle", b.Dir, r.id())
}

// sh runs script with the container's sh and fails the test unless it
// exits 0; it returns the script's stdout.
func (r *rt) sh(b *testbundle.Bundle, script string) string {
	r.t.Helper()
	res := r.runArgs(b, "/bin/sh", "-c", script)
	if res.code != 0 {
		r.t.Fatalf("container script %q: exit %d, stdout %q, stderr %q", script, res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// decodeAll decodes the consecutive JSON documents of out into vs.
func decodeAll(t *testing.T, out string, vs ...any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	for i, v := range vs {
		if err := dec.Decode(v); err != nil {
			t.Fatalf("decode document %d of container output %q: %v", i, out, err)
		}
	}
}

// hostNS returns this test process's namespaces, as `observer ns` prints them.
func hostNS(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir("/proc/self/ns")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/ns/" + e.Name()); err == nil {
			out[e.Name()] = l
		}
	}
	return out
}

// withoutNS removes namespace typ from the bundle's configuration.
func withoutNS(b *testbundle.Bundle, typ specs.LinuxNamespaceType) {
	b.Spec.Linux.Namespaces = slices.DeleteFunc(b.Spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == typ })
}

// setNS sets (or adds) namespace typ with path.
func setNS(b *testbundle.Bundle, typ specs.LinuxNamespaceType, path string) {
	withoutNS(b, typ)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

// mountEntry is one line of /proc/PID/mountinfo.
type mountEntry struct {
	root, point, opts, optional, fstype, source, super string
}

func parseMountinfo(t *testing.T, text string) []mountEntry {
	t.Helper()
	var out []mountEntry
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 3 {
			t.Fatalf("malformed mountinfo line %q", line)
		}
		out = append(out, mountEntry{root: f[3], point: f[4], opts: f[5], optional: strings.Join(f[6:], " "),
			fstype: g[0], source: g[1], super: g[2]})
	}
	return out
}

// mountAt returns the topmost mount at point.
func mountAt(t *testing.T, mountinfo, point string) (mountEntry, bool) {
	t.Helper()
	var last mountEntry
	found := false
	for _, m := range parseMountinfo(t, mountinfo) {
		if m.point == point {
			last, found = m, true
		}
	}
	return last, found
}

func hasOpts(list string, want ...string) bool {
	have := strings.Split(list, ",")
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// requireNothingLeft checks that a failed create of id left no state
// directory and no cgroup behind.
func requireNothingLeft(t *testing.T, r *rt, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		t.Errorf("state directory of %s left behind", id)
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + id)
	if d, _ := filepath.Glob("/sys/fs/cgroup/" + id); len(d) > 0 {
		dirs = append(dirs, d...)
	}
	if len(dirs) > 0 {
		t.Errorf("cgroups of %s left behind: %v", id, dirs)
	}
	if pids := pidsInCgroup(id); len(pids) > 0 {
		t.Errorf("processes of %s left behind: %v", id, pids)
	}
}

// pidsInCgroup lists the processes in a cgroup named after container id.
func pidsInCgroup(id string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, _ := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if strings.Contains(string(data), "/"+id+"\n") {
			out = append(out, pid)
		}
	}
	return out
}

// mustMount mounts for the test and unmounts in cleanup.
func mustMount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", source, target, err)
	}
	if flags&(unix.MS_REMOUNT|unix.MS_SHARED|unix.MS_SLAVE|unix.MS_PRIVATE) != 0 {
		return
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

func TestNamespacesNew(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	b.Spec.Hostname = "berth-iso"
	b.Spec.Domainname = "example.test"
	host := hostNS(t)
	hostName, _ := os.Hostname()

	var ns map[string]string
	var o observed
	decodeAll(t, r.sh(b, "/observer ns; exec /observer info"), &ns, &o)
	netdev := r.sh(b, "/observer cat /proc/net/dev")

	for _, name := range []string{"pid", "uts", "ipc", "net", "mnt", "cgroup"} {
		if ns[name] == "" || ns[name] == host[name] {
			t.Errorf("%s namespace: got %q, want a new one (host has %q)", name, ns[name], host[name])
		}
	}
	for _, name := range []string{"user", "time"} {
		if ns[name] != host[name] {
			t.Errorf("%s namespace: got %q, want the host's %q (not configured)", name, ns[name], host[name])
		}
	}
	if o.Pid != 1 || o.Ppid != 0 {
		t.Errorf("pid namespace: observer has pid %d ppid %d, want 1 and 0", o.Pid, o.Ppid)
	}
	if o.Hostname != "berth-iso" || o.Domainname != "example.test" {
		t.Errorf("uts namespace: got hostname %q domainname %q, want berth-iso and example.test", o.Hostname, o.Domainname)
	}
	if now, _ := os.Hostname(); now != hostName {
		t.Errorf("host hostname changed from %q to %q", hostName, now)
	}
	var ifaces []string
	for _, line := range strings.Split(netdev, "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "|") { // not the two header lines
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	if !slices.Equal(ifaces, []string{"lo"}) {
		t.Errorf("net namespace: got interfaces %v, want only [lo]", ifaces)
	}
	for _, line := range strings.Split(o.Cgroup, "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("cgroup namespace: /proc/self/cgroup line %q, want the path \"/\"", line)
		}
	}
	if root, ok := mountAt(t, o.Mountinfo, "/"); !ok || !strings.HasSuffix(root.root, "/rootfs") && root.root != "/" {
		t.Errorf("mount namespace: got root mount %+v, want the bundle's rootfs", root)
	}
	for _, m := range parseMountinfo(t, o.Mountinfo) {
		if strings.HasPrefix(m.point, b.Dir) || m.point == "/tmp" {
			t.Errorf("mount namespace: host mount point %s is visible in the container", m.point)
		}
	}
}

func TestNamespacesShared(t *testing.T) {
	host := hostNS(t)
	for _, tc := range []struct {
		typ  specs.LinuxNamespaceType
		name string
	}{
		{specs.PIDNamespace, "pid"}, {specs.UTSNamespace, "uts"}, {specs.IPCNamespace, "ipc"},
		{specs.NetworkNamespace, "net"}, {specs.CgroupNamespace, "cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			withoutNS(b, tc.typ)
			if tc.typ == specs.UTSNamespace {
				b.Spec.Hostname = ""
			}
			var ns map[string]string
			decodeAll(t, r.sh(b, "/observer ns"), &ns)
			if ns[tc.name] != host[tc.name] {
				t.Errorf("without a %s namespace: got %q, want the host's %q", tc.typ, ns[tc.name], host[tc.name])
			}
			for name, v := range ns {
				if name != tc.name && name != "user" && name != "time" && !strings.HasSuffix(name, "_for_children") && v == host[name] {
					t.Errorf("%s namespace is the host's %q, want a new one", name, v)
				}
			}
		})
	}
}

func TestUserNamespace(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	data := t.TempDir()
	if err := os.Chown(data, 100000, 100000); err != nil {
		t.Fatal(err)
	}
	// Container root is an unprivileged user on the host: it can create
	// nothing in the host-owned rootfs, so the mount point exists.
	if err := os.Mkdir(filepath.Join(b.Rootfs, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	reachable(t, b)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "rw"}})

	var o observed
	var ns map[string]string
	decodeAll(t, r.sh(b, "/observer write /data/by-root >/dev/null && /observer ns && exec /observer info"), &ns, &o)
	if got, want := strings.Fields(o.UIDMap), []string{"0", "100000", "65536"}; !slices.Equal(got, want) {
		t.Errorf("uid_map: got %q, want %q", o.UIDMap, strings.Join(want, " "))
	}
	if got, want := strings.Fields(o.GIDMap), []string{"0", "100000", "65536"}; !slices.Equal(got, want) {
		t.Errorf("gid_map: got %q, want %q", o.GIDMap, strings.Join(want, " "))
	}
	if o.UID != 0 || o.GID != 0 {
		t.Errorf("inside the user namespace: got uid %d gid %d, want 0 0", o.UID, o.GID)
	}
	if host := hostNS(t); ns["user"] == host["user"] {
		t.Errorf("user namespace: got the host's %q, want a new one", ns["user"])
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(data, "by-root"), &st); err != nil {
		t.Fatalf("file written by container root: %v", err)
	}
	if st.Uid != 100000 || st.Gid != 100000 {
		t.Errorf("file written by container root is owned by %d:%d on the host, want 100000:100000", st.Uid, st.Gid)
	}
}

func TestTimeNamespace(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	const offset = 10 * 86400 // ten days, in seconds
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: offset},
		"boottime":  {Secs: 2 * offset, Nanosecs: 500},
	}
	before := hostClocks(t)
	out := r.sh(b, "/observer clock; /observer cat /proc/uptime")
	after := hostClocks(t)
	var in map[string]int64
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode clocks %q: %v", out, err)
	}
	for _, tc := range []struct {
		clock string
		off   int64
	}{{"monotonic", offset * 1e9}, {"boottime", 2*offset*1e9 + 500}} {
		lo, hi := before[tc.clock]+tc.off, after[tc.clock]+tc.off
		if got := in[tc.clock]; got < lo || got > hi {
			t.Errorf("CLOCK_%s inside: got %d ns, want between %d and %d (host clock + offset %d ns)",
				strings.ToUpper(tc.clock), got, lo, hi, tc.off)
		}
	}
	uptime := unread(dec)
	up, err := strconv.ParseFloat(strings.Fields(uptime + " ")[0], 64)
	if err != nil {
		t.Fatalf("parse /proc/uptime %q: %v", uptime, err)
	}
	if up < 2*offset {
		t.Errorf("/proc/uptime inside: got %.0f s, want at least the boottime offset %d s", up, 2*offset)
	}
}

func hostClocks(t *testing.T) map[string]int64 {
	out := map[string]int64{}
	for name, id := range map[string]int32{"monotonic": unix.CLOCK_MONOTONIC, "boottime": unix.CLOCK_BOOTTIME} {
		var ts unix.Timespec
		if err := unix.ClockGettime(id, &ts); err != nil {
			t.Fatal(err)
		}
		out[name] = ts.Nano()
	}
	return out
}

// unread returns what dec has read but not decoded (its input is a
// string, so all of it is buffered).
func unread(dec *json.Decoder) string {
	data, _ := io.ReadAll(dec.Buffered())
	return string(data)
}

func TestJoinNamespaces(t *testing.T) {
	t.Run("bind-mounted netns", func(t *testing.T) {
		r := newRT(t)
		unshare := testutil.RequireBinary(t, "unshare")
		file := filepath.Join(t.TempDir(), "netns")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(unshare, "--net="+file, "true").CombinedOutput(); err != nil {
			t.Fatalf("unshare --net=%s: %v: %s", file, err, out)
		}
		t.Cleanup(func() { unix.Unmount(file, unix.MNT_DETACH) })
		var st unix.Stat_t
		if err := unix.Stat(file, &st); err != nil {
			t.Fatal(err)
		}
		b := testbundle.New(t)
		setNS(b, specs.NetworkNamespace, file)
		var ns map[string]string
		decodeAll(t, r.sh(b, "/observer ns"), &ns)
		if want := fmt.Sprintf("net:[%d]", st.Ino); ns["net"] != want {
			t.Errorf("joined net namespace: got %q, want %q (the one bound at %s)", ns["net"], want, file)
		}
		if host := hostNS(t); ns["uts"] == host["uts"] || ns["pid"] == host["pid"] {
			t.Errorf("the other namespaces were not created: got %v, host %v", ns, host)
		}
	})
	t.Run("another container's", func(t *testing.T) {
		r := newRT(t)
		a := testbundle.New(t, "/observer", "sleep")
		idA := r.id()
		r.ok("run", "--detach", "--bundle", a.Dir, idA)
		pidA := int(r.state(idA)["pid"].(float64))
		want := map[string]string{}
		for _, name := range []string{"net", "uts", "ipc"} {
			l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pidA, name))
			if err != nil {
				t.Fatal(err)
			}
			want[name] = l
		}
		b := testbundle.New(t)
		b.Spec.Hostname = ""
		setNS(b, specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/net", pidA))
		setNS(b, specs.UTSNamespace, fmt.Sprintf("/proc/%d/ns/uts", pidA))
		setNS(b, specs.IPCNamespace, fmt.Sprintf("/proc/%d/ns/ipc", pidA))
		var ns map[string]string
		var o observed
		decodeAll(t, r.sh(b, "/observer ns; exec /observer info"), &ns, &o)
		for name, w := range want {
			if ns[name] != w {
				t.Errorf("%s namespace: got %q, want container A's %q", name, ns[name], w)
			}
		}
		if o.Hostname != "berth-test" {
			t.Errorf("hostname in A's uts namespace: got %q, want A's berth-test", o.Hostname)
		}
		if o.Pid != 1 {
			t.Errorf("pid in B's own pid namespace: got %d, want 1", o.Pid)
		}
		r.ok("delete", "--force", idA)
	})
}

// probe is a shell fragment run in the container and what its output
// (stdout and stderr, newlines as spaces, trimmed) must be, or contain.
type probe struct {
	cmd, want string
	contains  bool
}

func writes(path string) probe { return probe{"/observer write " + path, "ok", false} }
func roWrite(path string) probe {
	return probe{"/observer write " + path, "read-only file system", true}
}
func reads(path, want string) probe { return probe{"/observer cat " + path, want, false} }
func lists(dir, want string) probe  { return probe{"ls -A " + dir, want, false} }

// runProbes runs the probes in one container of b, then the observer's
// info as the last line, and checks each probe's output.
func (r *rt) runProbes(b *testbundle.Bundle, probes []probe, extra ...string) observed {
	t := r.t
	t.Helper()
	var script strings.Builder
	for i, p := range probes {
		fmt.Fprintf(&script, "echo \"P%d $(%s 2>&1 | tr '\\n' ' ')\"\n", i, p.cmd)
	}
	script.WriteString("exec /observer info " + strings.Join(extra, " "))
	out := r.sh(b, script.String())
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var o observed
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil {
		t.Fatalf("decode observer info %q: %v", lines[len(lines)-1], err)
	}
	for i, p := range probes {
		prefix := fmt.Sprintf("P%d ", i)
		var got string
		found := false
		for _, l := range lines {
			if l+" " == prefix || strings.HasPrefix(l, prefix) {
				got, found = strings.TrimSpace(strings.TrimPrefix(l, prefix)), true
			}
		}
		switch {
		case !found:
			t.Errorf("%s: no output line in %q", p.cmd, out)
		case p.contains && !strings.Contains(got, p.want):
			t.Errorf("%s: got %q, want it to contain %q", p.cmd, got, p.want)
		case !p.contains && got != p.want:
			t.Errorf("%s: got %q, want %q", p.cmd, got, p.want)
		}
	}
	return o
}

// mountWant is what the container's mountinfo must show at a mount point.
type mountWant struct {
	fstype string
	opts   []string // per-mount options that must be set
	noOpts []string // per-mount options that must not be set
	super  []string // super block options that must be set
	absent bool     // nothing is mounted there
}

func checkMounts(t *testing.T, mountinfo string, want map[string]mountWant) {
	t.Helper()
	for point, w := range want {
		m, ok := mountAt(t, mountinfo, point)
		if w.absent {
			if ok {
				t.Errorf("mount at %s: got %+v, want none", point, m)
			}
			continue
		}
		if !ok {
			t.Errorf("mount at %s: none in the container's mountinfo", point)
			continue
		}
		if w.fstype != "" && m.fstype != w.fstype {
			t.Errorf("mount at %s: got type %s, want %s", point, m.fstype, w.fstype)
		}
		if !hasOpts(m.opts, w.opts...) {
			t.Errorf("mount at %s: got options %s, want %v among them", point, m.opts, w.opts)
		}
		for _, o := range w.noOpts {
			if hasOpts(m.opts, o) {
				t.Errorf("mount at %s: got options %s, want no %s", point, m.opts, o)
			}
		}
		if !hasOpts(m.super, w.super...) {
			t.Errorf("mount at %s: got super options %s, want %v among them", point, m.super, w.super)
		}
	}
}

// hostTree makes a host directory for bind mounts: a file "hello", an
// executable script "script" and, under "sub", a tmpfs of its own holding
// "marker".
func hostTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{"hello": "hi", "script": "#!/bin/sh\necho ran\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	mustMount(t, "tmpfs", sub, "tmpfs", 0, "size=1m")
	if err := os.WriteFile(filepath.Join(sub, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

func bindMount(dest, src string, opts ...string) specs.Mount {
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: opts}
}

func TestMounts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, b *testbundle.Bundle)
		probes []probe
		mounts map[string]mountWant
	}{{
		name: "proc and sysfs",
		probes: []probe{
			reads("/proc/self/comm", "observer"), roWrite("/sys/kernel/uevent_helper"),
		},
		mounts: map[string]mountWant{
			"/proc": {fstype: "proc", opts: []string{"rw"}},
			"/sys":  {fstype: "sysfs", opts: []string{"ro", "nosuid", "nodev", "noexec"}},
		},
	}, {
		name: "tmpfs with mode and size",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "nodev", "mode=1770", "size=2m"}})
		},
		probes: []probe{{"stat -c %a /scratch", "1770", false}, writes("/scratch/f")},
		mounts: map[string]mountWant{
			"/scratch": {fstype: "tmpfs", opts: []string{"rw", "nosuid", "nodev"}, noOpts: []string{"noexec"}, super: []string{"size=2048k", "mode=1770"}},
		},
	}, {
		name: "bind ro nosuid nodev noexec",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/ro", hostTree(t), "bind", "ro", "nosuid", "nodev", "noexec"))
		},
		probes: []probe{
			reads("/ro/hello", "hi"), roWrite("/ro/new"), {"/ro/script", "Permission denied", true},
		},
		mounts: map[string]mountWant{"/ro": {opts: []string{"ro", "nosuid", "nodev", "noexec"}}},
	}, {
		name: "bind rw",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/rw", hostTree(t), "rbind", "rw"))
		},
		probes: []probe{writes("/rw/new"), {"/rw/script", "ran", false}, reads("/rw/new", "observer was here")},
		mounts: map[string]mountWant{"/rw": {opts: []string{"rw"}, noOpts: []string{"noexec", "nosuid"}}},
	}, {
		name: "bind is not recursive, rbind is",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			src := hostTree(t)
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/b", src, "bind"), bindMount("/rb", src, "rbind"))
		},
		probes: []probe{lists("/b/sub", ""), lists("/rb/sub", "marker")},
		mounts: map[string]mountWant{"/b/sub": {absent: true}, "/rb/sub": {fstype: "tmpfs"}},
	}, {
		name: "ro applies to the top mount, rro to all",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			src := hostTree(t)
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/ro", src, "rbind", "ro"), bindMount("/rro", src, "rbind", "rro"))
		},
		probes: []probe{roWrite("/ro/x"), writes("/ro/sub/x"), roWrite("/rro/x"), roWrite("/rro/sub/y")},
		mounts: map[string]mountWant{
			"/ro": {opts: []string{"ro"}}, "/ro/sub": {opts: []string{"rw"}},
			"/rro": {opts: []string{"ro"}}, "/rro/sub": {opts: []string{"ro"}},
		},
	}, {
		name: "file bind mount",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/etc/greeting", filepath.Join(hostTree(t), "hello"), "bind", "ro"))
		},
		probes: []probe{reads("/etc/greeting", "hi"), {"stat -c %F /etc/greeting", "regular file", false}, roWrite("/etc/greeting")},
		mounts: map[string]mountWant{"/etc/greeting": {opts: []string{"ro"}}},
	}, {
		name: "masked paths",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			src := hostTree(t)
			b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/data", src, "rbind"))
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/data/hello", "/data/sub", "/data/not-there")
		},
		probes: []probe{
			reads("/proc/timer_list", ""), lists("/sys/firmware", ""), reads("/data/hello", ""),
			lists("/data/sub", ""), roWrite("/data/sub/x"), reads("/data/script", "#!/bin/sh echo ran"),
		},
	}, {
		name: "readonly paths",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs"})
			b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/data", "/not-there")
		},
		probes: []probe{roWrite("/data/x"), roWrite("/proc/sys/kernel/domainname"), writes("/tmp/x")},
		mounts: map[string]mountWant{"/data": {opts: []string{"ro"}}, "/proc/sys": {opts: []string{"ro"}}},
	}, {
		name: "root readonly",
		setup: func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Root.Readonly = true
		},
		probes: []probe{roWrite("/tmp/x"), roWrite("/observer"), writes("/dev/shm/x")},
		mounts: map[string]mountWant{"/": {opts: []string{"ro"}}, "/dev/shm": {opts: []string{"rw"}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			if tc.setup != nil {
				tc.setup(t, b)
			}
			o := r.runProbes(b, tc.probes)
			checkMounts(t, o.Mountinfo, tc.mounts)
		})
	}
}

// sharedMount makes dir a shared mount point of its own on the host, so
// that mount events under it propagate (the host's / is private here).
func sharedMount(t *testing.T, dir string) {
	t.Helper()
	mustMount(t, dir, dir, "", unix.MS_BIND, "")
	mustMount(t, "", dir, "", unix.MS_SHARED, "")
}

func TestMountPropagation(t *testing.T) {
	r := newRT(t)
	src := hostTree(t)
	sharedMount(t, src)
	out := t.TempDir()
	b := testbundle.New(t)
	b.Spec.Mounts = append(b.Spec.Mounts,
		bindMount("/out", out, "bind"),
		bindMount("/slave", src, "rbind", "rslave"),
		bindMount("/private", src, "rbind", "rprivate"),
		bindMount("/shared", src, "rbind", "rshared"))
	b.Spec.Process.Args = []string{"/bin/sh", "-c", "for d in slave private shared; do echo $d $(ls /$d/late); done >/out/ls; /observer cat /proc/self/mountinfo >/out/mountinfo"}
	b.Save(t)
	id := r.id()
	r.ok("create", "--bundle", b.Dir, id)
	// The container's mounts exist now: a mount made on the host from here
	// on reaches only the container mounts that receive propagation.
	late := filepath.Join(src, "late")
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	mustMount(t, "tmpfs", late, "tmpfs", 0, "size=1m")
	if err := os.WriteFile(filepath.Join(late, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.ok("start", id)
	waitStatus(t, r, id, "stopped")
	r.ok("delete", id)
	ls, _ := os.ReadFile(filepath.Join(out, "ls"))
	mountinfo, _ := os.ReadFile(filepath.Join(out, "mountinfo"))
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(ls)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			seen[f[0]] = slices.Contains(f[1:], "marker")
		}
	}
	for _, tc := range []struct {
		dir      string
		receives bool
		optional string // tag in mountinfo's optional fields
	}{{"slave", true, "master:"}, {"private", false, ""}, {"shared", true, "shared:"}} {
		if seen[tc.dir] != tc.receives {
			t.Errorf("/%s: host mount seen inside = %v, want %v (container listing %q)", tc.dir, seen[tc.dir], tc.receives, ls)
		}
		m, ok := mountAt(t, string(mountinfo), "/"+tc.dir)
		switch {
		case !ok:
			t.Errorf("/%s: not mounted", tc.dir)
		case tc.optional == "" && m.optional != "":
			t.Errorf("/%s: got propagation %q, want private", tc.dir, m.optional)
		case !strings.Contains(m.optional, tc.optional):
			t.Errorf("/%s: got propagation %q, want %s", tc.dir, m.optional, tc.optional)
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	for _, tc := range []struct {
		prop string
		want string // tag in the optional fields of / ("" = private)
	}{{"", "master:"}, {"slave", "master:"}, {"rslave", "master:"}, {"private", ""}, {"rprivate", ""}, {"shared", "shared:"}, {"rshared", "shared:"}} {
		t.Run("propagation="+tc.prop, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			sharedMount(t, b.Dir)
			b.Spec.Linux.RootfsPropagation = tc.prop
			o := r.observe(b)
			root, ok := mountAt(t, o.Mountinfo, "/")
			switch {
			case !ok:
				t.Fatalf("no / in the container's mountinfo")
			case tc.want == "" && root.optional != "":
				t.Errorf("/: got propagation %q, want private", root.optional)
			case !strings.Contains(root.optional, tc.want):
				t.Errorf("/: got propagation %q, want %s", root.optional, tc.want)
			}
			host, _ := os.ReadFile("/proc/self/mountinfo")
			for _, m := range parseMountinfo(t, string(host)) {
				if strings.HasPrefix(m.point, b.Rootfs) {
					t.Errorf("container mount %s reached the host", m.point)
				}
			}
		})
	}
}

func TestNoPivot(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	b.Spec.Process.Args = []string{"/bin/sh", "-c", "/observer cat /marker && exec /observer info"}
	b.Save(t)
	if err := os.WriteFile(filepath.Join(b.Rootfs, "marker"), []byte("in rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.run("run", "--no-pivot", "--bundle", b.Dir, r.id())
	if res.code != 0 {
		t.Fatalf("run --no-pivot: exit %d, stderr %s", res.code, res.stderr)
	}
	marker, info, _ := strings.Cut(res.stdout, "\n")
	if marker != "in rootfs" {
		t.Errorf("/marker inside: got %q, want %q", marker, "in rootfs")
	}
	var o observed
	if err := json.Unmarshal([]byte(info), &o); err != nil {
		t.Fatalf("decode observer info %q: %v", info, err)
	}
	if o.Cwd != "/" || o.Pid != 1 || o.Hostname != "berth-test" {
		t.Errorf("--no-pivot: got cwd %q pid %d hostname %q, want /, 1, berth-test", o.Cwd, o.Pid, o.Hostname)
	}
	if root, ok := mountAt(t, o.Mountinfo, "/"); !ok || root.root != b.Rootfs {
		t.Errorf("--no-pivot: got / mounted from %q, want the rootfs %s", root.root, b.Rootfs)
	}
}

// fileInfo is what `observer stat` reports.
type fileInfo struct {
	Path, Err, Type, Link string
	Mode, UID, GID        uint32
	Major, Minor          uint32
}

func TestDevices(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	u := func(v uint32) *uint32 { return &v }
	m := func(v os.FileMode) *os.FileMode { return &v }
	b.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/custom/mynull", Type: "c", Major: 1, Minor: 3, FileMode: m(0o662), UID: u(1000), GID: u(5)},
		{Path: "/dev/myfifo", Type: "p", FileMode: m(0o600)},
		{Path: "/dev/loopish", Type: "b", Major: 7, Minor: 200, FileMode: m(0o660), GID: u(6)},
	}
	want := []fileInfo{
		{Path: "/dev/null", Type: "char", Mode: 0o666, Major: 1, Minor: 3},
		{Path: "/dev/zero", Type: "char", Mode: 0o666, Major: 1, Minor: 5},
		{Path: "/dev/full", Type: "char", Mode: 0o666, Major: 1, Minor: 7},
		{Path: "/dev/random", Type: "char", Mode: 0o666, Major: 1, Minor: 8},
		{Path: "/dev/urandom", Type: "char", Mode: 0o666, Major: 1, Minor: 9},
		{Path: "/dev/tty", Type: "char", Mode: 0o666, Major: 5, Minor: 0},
		{Path: "/dev/ptmx", Type: "symlink", Link: "pts/ptmx"},
		{Path: "/dev/fd", Type: "symlink", Link: "/proc/self/fd"},
		{Path: "/dev/stdin", Type: "symlink", Link: "/proc/self/fd/0"},
		{Path: "/dev/stdout", Type: "symlink", Link: "/proc/self/fd/1"},
		{Path: "/dev/stderr", Type: "symlink", Link: "/proc/self/fd/2"},
		{Path: "/dev/custom/mynull", Type: "char", Mode: 0o662, UID: 1000, GID: 5, Major: 1, Minor: 3},
		{Path: "/dev/myfifo", Type: "fifo", Mode: 0o600},
		{Path: "/dev/loopish", Type: "block", Mode: 0o660, GID: 6, Major: 7, Minor: 200},
	}
	args := []string{"/observer", "stat"}
	for _, w := range want {
		args = append(args, w.Path)
	}
	// The devices work, too: the device cgroup lets the defaults and
	// linux.devices through, though the config denies all by default.
	script := "echo x >/dev/null && echo x >/dev/custom/mynull && head -c 3 /dev/zero | wc -c && exec " + strings.Join(args, " ")
	out := r.sh(b, script)
	count, statJSON, _ := strings.Cut(out, "\n")
	if strings.TrimSpace(count) != "3" {
		t.Errorf("head -c 3 /dev/zero | wc -c: got %q, want 3", count)
	}
	var got []fileInfo
	if err := json.Unmarshal([]byte(statJSON), &got); err != nil {
		t.Fatalf("decode observer stat %q: %v", statJSON, err)
	}
	for i, w := range want {
		g := got[i]
		if w.Type == "symlink" {
			g.Mode, g.UID, g.GID = 0, 0, 0
		}
		if g != w {
			t.Errorf("%s: got %+v, want %+v", w.Path, g, w)
		}
	}
}

func TestJoinUserNamespace(t *testing.T) {
	r := newRT(t)
	a := testbundle.New(t, "/observer", "sleep")
	a.Spec.Linux.Namespaces = append(a.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	a.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	a.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	a.Save(t)
	reachable(t, a)
	idA := r.id()
	r.ok("run", "--detach", "--bundle", a.Dir, idA)
	pidA := int(r.state(idA)["pid"].(float64))
	wantUser, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pidA))

	b := testbundle.New(t)
	reachable(t, b)
	setNS(b, specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", pidA))
	// A container in another user namespace may not mount a fresh sysfs
	// for a network namespace it does not own: join A's.
	setNS(b, specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/net", pidA))
	var ns map[string]string
	var o observed
	decodeAll(t, r.sh(b, "/observer ns; exec /observer info"), &ns, &o)
	if ns["user"] != wantUser {
		t.Errorf("user namespace: got %q, want A's %q", ns["user"], wantUser)
	}
	if got := strings.Fields(o.UIDMap); !slices.Equal(got, []string{"0", "200000", "65536"}) {
		t.Errorf("uid_map: got %q, want A's mapping 0 200000 65536", o.UIDMap)
	}
	if o.UID != 0 {
		t.Errorf("uid: got %d, want 0 in A's user namespace", o.UID)
	}
	r.ok("delete", "--force", idA)
}

// reachable lets an unprivileged host user (the root of a user namespace)
// reach b's rootfs and its siblings through the 0700 test temp dirs.
func reachable(t *testing.T, b *testbundle.Bundle) {
	t.Helper()
	for _, d := range []string{b.Dir, filepath.Dir(b.Dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
