package runtime_test

// cgroup v1 for real: limits seen from inside and on the host, limits
// really hit (OOM kill, fork bomb), cgroupsPath placement, the devices
// controller, update, events --stats, and no cgroup left after delete.
// (The v2 side is unit-tested on a fake tree in runtime/cgroups.)

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/testbundle"
)

// ---- helpers shared by cgroups_test, verbs_test, exec_test, badinput_test
// and safety_test ----

// liveCtr is a container a test created, with the files its init's stdout
// and stderr go to.
type liveCtr struct {
	r         *rt
	b         *testbundle.Bundle
	id        string
	pid       int
	out, errf string
	cgroups   []string // its cgroup directories, read at create
}

// rtCall is one berth-runtime command line with what it is given.
type rtCall struct {
	args  []string
	stdin []byte
	extra []*os.File // fds 3, 4, … (--preserve-fds)
}

// invoke runs berth-runtime and returns its result and the files that
// were its stdout and stderr (a process it leaves behind still holds them).
func (r *rt) invoke(inv rtCall) (res result, outPath, errPath string) {
	r.t.Helper()
	dir := r.t.TempDir()
	outPath, errPath = filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	out, err := os.Create(outPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(errPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer errf.Close()
	cmd := exec.Command(binary, append([]string{"--root", r.root}, inv.args...)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, errf, inv.extra
	if inv.stdin != nil {
		cmd.Stdin = strings.NewReader(string(inv.stdin))
	}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start berth-runtime: %v", err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	cmd.Wait()
	if !timer.Stop() {
		r.t.Fatalf("berth-runtime %v: timed out", inv.args)
	}
	o, _ := os.ReadFile(outPath)
	e, _ := os.ReadFile(errPath)
	return result{string(o), string(e), cmd.ProcessState.ExitCode()}, outPath, errPath
}

// createLive creates a container from b (saving b first) and returns it.
func (r *rt) createLive(b *testbundle.Bundle, flags ...string) *liveCtr {
	r.t.Helper()
	b.Save(r.t)
	c := &liveCtr{r: r, b: b, id: r.id()}
	args := append(append([]string{"create", "--bundle", b.Dir}, flags...), c.id)
	res, out, errf := r.invoke(rtCall{args: args})
	if res.code != 0 {
		r.t.Fatalf("create %s: exit %d, stderr: %s", c.id, res.code, res.stderr)
	}
	c.out, c.errf = out, errf
	c.pid = int(r.state(c.id)["pid"].(float64))
	c.cgroups = ctrCgroupDirs(r.t, c.pid)
	if len(c.cgroups) == 0 {
		r.t.Fatalf("container %s: init %d is in no cgroup of its own", c.id, c.pid)
	}
	return c
}

// startLive creates and starts a container.
func (r *rt) startLive(b *testbundle.Bundle, flags ...string) *liveCtr {
	r.t.Helper()
	c := r.createLive(b, flags...)
	c.r.ok("start", c.id)
	return c
}

func (c *liveCtr) stdout() string { data, _ := os.ReadFile(c.out); return string(data) }
func (c *liveCtr) stderr() string { data, _ := os.ReadFile(c.errf); return string(data) }

// waitOutput waits until the container's stdout contains want.
func (c *liveCtr) waitOutput(want string) string {
	c.r.t.Helper()
	var out string
	pollUntil(c.r.t, fmt.Sprintf("container %s to print %q", c.id, want), func() bool {
		out = c.stdout()
		return strings.Contains(out, want)
	})
	return out
}

// waitUntil polls cond for up to 20 seconds; the deadline only bounds a
// hang, it asserts nothing about speed.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for d := time.Millisecond; !cond(); d = min(2*d, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(d)
	}
}

// gone reports whether pid has exited (no such process, or a zombie).
func procGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// cgMount is a cgroup hierarchy mounted on the host.
type cgMount struct {
	dir, root string
	keys      []string // "memory", "cpu", "name=systemd"; "" for cgroup2
}

func hostCgroupMounts(t *testing.T) []cgMount {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []cgMount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if !ok || len(pf) < 5 || len(qf) < 3 || !strings.HasPrefix(pf[4], "/sys/fs/cgroup") {
			continue
		}
		m := cgMount{dir: pf[4], root: pf[3]}
		switch qf[0] {
		case "cgroup2":
			m.keys = []string{""}
		case "cgroup":
			for _, o := range strings.Split(qf[2], ",") {
				if o != "rw" && o != "ro" && !strings.HasPrefix(o, "release_agent") && o != "clone_children" && o != "xattr" && o != "noprefix" && o != "cpuset_v2_mode" {
					m.keys = append(m.keys, o)
				}
			}
		default:
			continue
		}
		ms = append(ms, m)
	}
	return ms
}

// hostCgroupDirs maps each hierarchy key of pid's cgroups ("memory", "cpu",
// "name=systemd", "" for cgroup2) to its directory on the host.
func hostCgroupDirs(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("read cgroups of %d: %v", pid, err)
	}
	mounts := hostCgroupMounts(t)
	dirs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, key := range strings.Split(parts[1], ",") {
			for _, m := range mounts {
				for _, k := range m.keys {
					if k == key {
						rel := strings.TrimPrefix(parts[2], strings.TrimSuffix(m.root, "/"))
						dirs[key] = filepath.Join(m.dir, rel)
					}
				}
			}
		}
	}
	return dirs
}

// cgroupFile reads a file of pid's cgroup in the hierarchy of ctrl.
func hostCgroupFile(t *testing.T, pid int, ctrl, file string) string {
	t.Helper()
	dir, ok := hostCgroupDirs(t, pid)[ctrl]
	if !ok {
		t.Fatalf("process %d has no %s cgroup", pid, ctrl)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("read %s of process %d: %v", file, pid, err)
	}
	return strings.TrimSpace(string(data))
}

// containerDirs are the cgroup directories of a container: every
// directory its init is in that is not also the test's own.
func ctrCgroupDirs(t *testing.T, pid int) []string {
	t.Helper()
	own := hostCgroupDirs(t, os.Getpid())
	var out []string
	for k, d := range hostCgroupDirs(t, pid) {
		if own[k] != d {
			out = append(out, d)
		}
	}
	return out
}

// checkNoCgroup fails if any of dirs exists, or any cgroup directory on the
// host is named name.
func requireNoCgroup(t *testing.T, name string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left behind", d)
		}
	}
	if name == "" {
		return
	}
	for _, m := range hostCgroupMounts(t) {
		filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == name {
				t.Errorf("cgroup %s left behind", p)
				return filepath.SkipDir
			}
			return nil
		})
	}
}

// mountsMentioning lists the host's mounts whose line names path.
func hostMountsNaming(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, path) {
			out = append(out, l)
		}
	}
	return out
}

// holders lists the processes with an fd open on path.
func fdHolders(path string) []int {
	var pids []int
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); l == path {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// deleteAndCheck deletes the container and checks that nothing is left of
// it: process, cgroup directory in any hierarchy, state, host mount.
func (c *liveCtr) deleteAndCheck(flags ...string) {
	t := c.r.t
	t.Helper()
	c.r.ok(append(append([]string{"delete"}, flags...), c.id)...)
	if !procGone(c.pid) {
		t.Errorf("init %d of %s still runs after delete", c.pid, c.id)
	}
	requireNoCgroup(t, c.id, c.cgroups...)
	if _, err := os.Stat(filepath.Join(c.r.root, c.id)); err == nil {
		t.Errorf("state dir of %s left after delete", c.id)
	}
	if m := hostMountsNaming(t, c.b.Dir); len(m) > 0 {
		t.Errorf("host mounts of %s left after delete: %q", c.id, m)
	}
	if h := fdHolders(c.out); len(h) > 0 {
		t.Errorf("processes %v of %s still hold its stdout after delete", h, c.id)
	}
}

func linkApplets(t *testing.T, b *testbundle.Bundle, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", n)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// ---- tests ----

// TestCgroupLimits sets every v1 limit and reads each back on the host and
// inside the container, through its own cgroup mount.
func TestCgroupLimits(t *testing.T) {
	r := newRT(t)
	type row struct {
		ctrl, file, want string
	}
	rows := []row{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.soft_limit_in_bytes", "33554432"},
		{"pids", "pids.max", "64"},
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpuset", "cpuset.cpus", "0"},
		{"cpuset", "cpuset.mems", "0"},
	}
	res := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Memory:  &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Reservation: ptrTo(int64(32 << 20))},
		Pids:    &specs.LinuxPids{Limit: ptrTo(int64(64))},
		CPU:     &specs.LinuxCPU{Shares: ptrTo(uint64(512)), Quota: ptrTo(int64(50000)), Period: ptrTo(uint64(100000)), Cpus: "0", Mems: "0"},
	}
	// blkio weight only where the kernel has a weight file (CFQ or BFQ):
	// a host fact.
	if blkio := blkioWeightFile(t); blkio != "" {
		res.BlockIO = &specs.LinuxBlockIO{Weight: ptrTo(uint16(300))}
		rows = append(rows, row{"blkio", blkio, "300"})
	} else {
		t.Run("blkio weight", func(t *testing.T) {
			t.Skip("this kernel's blkio cgroups have neither blkio.weight nor blkio.bfq.weight (no CFQ or BFQ scheduler)")
		})
	}
	var script strings.Builder
	for _, rw := range rows {
		fmt.Fprintf(&script, "echo %s/%s=$(cat /sys/fs/cgroup/%s/%s);", rw.ctrl, rw.file, rw.ctrl, rw.file)
	}
	script.WriteString("echo done; sleep 1000")
	b := testbundle.New(t, "sh", "-c", script.String())
	b.Spec.Linux.Resources = res
	c := r.createLive(b)

	// Limits are in place at create, before the process runs.
	for _, rw := range rows {
		if got := hostCgroupFile(t, c.pid, rw.ctrl, rw.file); got != rw.want {
			t.Errorf("host %s/%s: got %q, want %q", rw.ctrl, rw.file, got, rw.want)
		}
	}
	r.ok("start", c.id)
	out := c.waitOutput("done")
	for _, rw := range rows {
		want := fmt.Sprintf("%s/%s=%s\n", rw.ctrl, rw.file, rw.want)
		if !strings.Contains(out, want) {
			t.Errorf("inside: got %q, want a line %q", out, want)
		}
	}
	// The container sees its own cgroup as the root of each hierarchy.
	if got := hostCgroupFile(t, c.pid, "memory", "cgroup.procs"); !strings.Contains(got, strconv.Itoa(c.pid)) {
		t.Errorf("host cgroup.procs of the memory cgroup: got %q, want init %d in it", got, c.pid)
	}
	c.deleteAndCheck("--force")
}

// blkioWeightFile names the weight file of this kernel's v1 blkio
// cgroups, probed in a scratch cgroup: the root cgroup has none.
func blkioWeightFile(t *testing.T) string {
	t.Helper()
	dir := fmt.Sprintf("/sys/fs/cgroup/blkio/berth-probe-%d", os.Getpid())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("probe blkio: %v", err)
	}
	defer os.Remove(dir)
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return f
		}
	}
	return ""
}

// TestCgroupOOM hits a small memory limit: the hog is OOM-killed inside the
// container, the kernel counts it, and events reports it.
func TestCgroupOOM(t *testing.T) {
	r := newRT(t)
	// The hog is a child of the shell, so the container survives the kill
	// and reports its exit status.
	b := testbundle.New(t, "sh", "-c", "/observer oom; echo oom-exit=$?; sleep 1000")
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptrTo(int64(32 << 20))}
	c := r.createLive(b)

	ev := exec.Command(binary, "--root", r.root, "events", "--interval", "1h", c.id)
	evOut := filepath.Join(t.TempDir(), "events")
	f, err := os.Create(evOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev.Stdout, ev.Stderr = f, f
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Process.Kill(); ev.Wait() })
	// events takes its OOM baseline as it starts: 0, as nothing ran yet.

	r.ok("start", c.id)
	out := c.waitOutput("oom-exit=")
	if !strings.Contains(out, "oom-exit=137") {
		t.Errorf("hog's exit: got output %q, want oom-exit=137 (SIGKILL)", out)
	}
	if !strings.Contains(out, "allocated 16 MiB") {
		t.Errorf("hog output %q: it never allocated", out)
	}
	oc := hostCgroupFile(t, c.pid, "memory", "memory.oom_control")
	if m := regexp.MustCompile(`oom_kill (\d+)`).FindStringSubmatch(oc); m == nil || m[1] == "0" {
		t.Errorf("memory.oom_control: got %q, want oom_kill >= 1", oc)
	}
	var e struct {
		Type string
		ID   string
		Data struct {
			Memory struct {
				Usage struct{ Limit, Failcnt uint64 }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.ok("events", "--stats", c.id)), &e); err != nil {
		t.Fatalf("decode events --stats: %v", err)
	}
	if e.Data.Memory.Usage.Limit != 32<<20 || e.Data.Memory.Usage.Failcnt == 0 {
		t.Errorf("events --stats memory.usage: got limit %d failcnt %d, want limit %d and failcnt > 0",
			e.Data.Memory.Usage.Limit, e.Data.Memory.Usage.Failcnt, 32<<20)
	}
	pollUntil(t, "an oom event from events", func() bool {
		data, _ := os.ReadFile(evOut)
		return strings.Contains(string(data), `"type":"oom"`)
	})
	c.deleteAndCheck("--force")
}

// TestEventsOOMOfInit: when the OOM kill ends the container (its init is
// the hog), events still reports it before it exits.
func TestEventsOOMOfInit(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "oom")
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptrTo(int64(32 << 20))}
	c := r.createLive(b)
	ev := exec.Command(binary, "--root", r.root, "events", "--interval", "1h", c.id)
	out, err := os.Create(filepath.Join(t.TempDir(), "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ev.Stdout, ev.Stderr = out, out
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Process.Kill(); ev.Wait() })
	r.ok("start", c.id)
	waitStatus(t, r, c.id, "stopped")
	if err := ev.Wait(); err != nil {
		t.Errorf("events: %v", err)
	}
	data, _ := os.ReadFile(out.Name())
	if !strings.Contains(string(data), `"type":"oom"`) {
		t.Errorf("events output %q: want an oom event", data)
	}
	c.deleteAndCheck()
}

// TestCgroupPidsLimit runs a fork bomb under pids.max: fork fails with
// EAGAIN once the cgroup holds the limit.
func TestCgroupPidsLimit(t *testing.T) {
	r := newRT(t)
	const limit = 32
	b := testbundle.New(t, "/observer", "forkbomb")
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptrTo(int64(limit))}
	b.Save(t)
	res := r.run("run", "--bundle", b.Dir, r.id())
	if res.code != 0 {
		t.Fatalf("run: exit %d, stderr %s", res.code, res.stderr)
	}
	m := regexp.MustCompile(`forked (\d+), then: (.*)`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("forkbomb: got %q, want it to hit a limit", res.stdout)
	}
	n, _ := strconv.Atoi(m[1])
	// The observer's own threads count against pids.max too.
	if n < 1 || n >= limit || m[2] != "resource temporarily unavailable" {
		t.Errorf("forkbomb: got %d forks then %q, want 1..%d forks then EAGAIN", n, m[2], limit-1)
	}
}

// TestCgroupsPath places the container by a relative and an absolute
// cgroupsPath and checks the directories on the host, before and after
// delete.
func TestCgroupsPath(t *testing.T) {
	own := hostCgroupDirs(t, os.Getpid())
	for _, tc := range []struct {
		name string
		path func(id string) string
		want func(key, ownDir, leaf string) string // host dir for a hierarchy
	}{
		{"relative", func(id string) string { return "berth-rel-" + id },
			func(key, ownDir, leaf string) string { return filepath.Join(ownDir, leaf) }},
		{"absolute", func(id string) string { return "/berth-abs-" + id },
			func(key, ownDir, leaf string) string {
				for _, m := range hostCgroupMounts(t) {
					for _, k := range m.keys {
						if k == key {
							return filepath.Join(m.dir, leaf)
						}
					}
				}
				return "?"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "/observer", "sleep")
			leaf := tc.path(fmt.Sprint(os.Getpid(), "-", seq.Add(1)))
			b.Spec.Linux.CgroupsPath = leaf
			c := r.createLive(b)
			dirs := hostCgroupDirs(t, c.pid)
			for _, key := range []string{"memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio"} {
				want := tc.want(key, own[key], strings.TrimPrefix(leaf, "/"))
				if dirs[key] != want {
					t.Errorf("%s cgroup of init: got %q, want %q", key, dirs[key], want)
				}
				if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
					t.Errorf("%s: cgroup dir %s missing on the host: %v", key, want, err)
				}
			}
			c.deleteAndCheck()
			requireNoCgroup(t, filepath.Base(leaf))
		})
	}
}

// TestCgroupDevices: the devices controller lets the container create a
// block device node (rule "b *:* m") but not open it, and refuses both for
// a device no rule allows.
func TestCgroupDevices(t *testing.T) {
	r := newRT(t)
	major, minor := hostBlockDevice(t)
	b := testbundle.New(t, "sh", "-c", fmt.Sprintf(
		"mknod /tmp/blk b %d %d && echo mknod-blk=ok; /observer cat /tmp/blk | head -c 200; echo;"+
			"mknod /tmp/mem c 1 1 2>&1 && echo mknod-mem=ok; /observer cat /dev/null && echo null=ok", major, minor))
	linkApplets(t, b, "mknod")
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Effective = append(b.Spec.Process.Capabilities.Effective, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Permitted = append(b.Spec.Process.Capabilities.Permitted, "CAP_MKNOD")
	b.Spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "b", Access: "m"},
	}
	b.Save(t)
	res := r.run("run", "--bundle", b.Dir, r.id())
	for _, want := range []string{"mknod-blk=ok", "error: open /tmp/blk: operation not permitted", "null=ok"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("got %q, want %q in it", res.stdout, want)
		}
	}
	if strings.Contains(res.stdout, "mknod-mem=ok") {
		t.Errorf("got %q: mknod of /dev/mem's device was allowed, want it denied", res.stdout)
	}
}

// hostBlockDevice returns the numbers of a block device of this host.
func hostBlockDevice(t *testing.T) (uint32, uint32) {
	ents, err := os.ReadDir("/sys/dev/block")
	if err != nil || len(ents) == 0 {
		t.Fatalf("no block device on this host: %v", err)
	}
	a, b, _ := strings.Cut(ents[0].Name(), ":")
	ma, _ := strconv.Atoi(a)
	mi, _ := strconv.Atoi(b)
	return uint32(ma), uint32(mi)
}

// TestCgroupUpdate changes limits of a running container by flags, by a
// resources file and by stdin.
func TestCgroupUpdate(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "sleep")
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20))}
	c := r.startLive(b)
	file := filepath.Join(t.TempDir(), "resources.json")
	if err := os.WriteFile(file, []byte(`{"memory":{"limit":83886080},"pids":{"limit":40},"cpu":{"shares":300}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	type want struct{ ctrl, file, value string }
	type tcase struct {
		name  string
		args  []string
		stdin []byte
		want  []want
	}
	var blkio []tcase
	if f := blkioWeightFile(t); f != "" {
		blkio = append(blkio, tcase{"blkio", []string{"--blkio-weight", "200"}, nil, []want{{"blkio", f, "200"}}})
	}
	for _, tc := range append([]tcase{
		{"flags", []string{"--memory", "100m", "--pids-limit", "30", "--cpu-share", "256", "--cpu-quota", "20000", "--cpu-period", "100000"}, nil,
			[]want{{"memory", "memory.limit_in_bytes", "104857600"}, {"pids", "pids.max", "30"}, {"cpu", "cpu.shares", "256"}, {"cpu", "cpu.cfs_quota_us", "20000"}}},
		{"file", []string{"--resources", file}, nil,
			[]want{{"memory", "memory.limit_in_bytes", "83886080"}, {"pids", "pids.max", "40"}, {"cpu", "cpu.shares", "300"}}},
		{"stdin", []string{"--resources", "-"}, []byte(`{"pids":{"limit":50},"cpu":{"cpus":"0"}}`),
			[]want{{"pids", "pids.max", "50"}, {"cpuset", "cpuset.cpus", "0"}, {"memory", "memory.limit_in_bytes", "83886080"}}},
		{"unlimited", []string{"--pids-limit", "-1"}, nil,
			[]want{{"pids", "pids.max", "max"}}},
	}, blkio...) {
		t.Run(tc.name, func(t *testing.T) {
			res, _, _ := r.invoke(rtCall{args: append(append([]string{"update"}, tc.args...), c.id), stdin: tc.stdin})
			if res.code != 0 {
				t.Fatalf("update %v: exit %d, stderr %s", tc.args, res.code, res.stderr)
			}
			for _, w := range tc.want {
				if got := hostCgroupFile(t, c.pid, w.ctrl, w.file); got != w.value {
					t.Errorf("host %s: got %q, want %q", w.file, got, w.value)
				}
				// And from inside, through the container's cgroup mount.
				in := r.ok("exec", c.id, "/observer", "cat", "/sys/fs/cgroup/"+w.ctrl+"/"+w.file)
				if strings.TrimSpace(in) != w.value {
					t.Errorf("inside %s: got %q, want %q", w.file, in, w.value)
				}
			}
		})
	}
	if res := r.run("update", "--memory", "lots", c.id); res.code == 0 || !strings.Contains(res.stderr, "--memory") {
		t.Errorf("update --memory lots: exit %d, stderr %q; want an error naming the flag", res.code, res.stderr)
	}
	c.deleteAndCheck("--force")
}

// TestEventsStats reads runc-shaped statistics of a container that has
// used some CPU.
func TestEventsStats(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; sleep 1000")
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptrTo(int64(100))}
	c := r.startLive(b)
	c.waitOutput("done")
	out := r.ok("events", "--stats", c.id)
	var e struct {
		Type, ID string
		Data     struct {
			CPU struct {
				Usage struct {
					Total  uint64
					Percpu []uint64
					Kernel uint64
					User   uint64
				}
			}
			Memory struct {
				Usage struct{ Usage, Limit uint64 }
				Raw   map[string]uint64
			}
			Pids struct{ Current, Limit uint64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if e.Type != "stats" || e.ID != c.id {
		t.Errorf("got type %q id %q, want stats and %s", e.Type, e.ID, c.id)
	}
	d := e.Data
	if d.CPU.Usage.Total == 0 || len(d.CPU.Usage.Percpu) == 0 || d.CPU.Usage.User+d.CPU.Usage.Kernel == 0 {
		t.Errorf("cpu usage: got %+v, want non-zero total, user+kernel and per-CPU entries", d.CPU.Usage)
	}
	if d.Memory.Usage.Usage == 0 || len(d.Memory.Raw) == 0 {
		t.Errorf("memory: got usage %d and %d raw entries, want both non-zero", d.Memory.Usage.Usage, len(d.Memory.Raw))
	}
	// pids.current counts the tasks the host sees in the cgroup (the
	// shell, sleeping: the count is stable).
	tasks := len(strings.Fields(hostCgroupFile(t, c.pid, "pids", "tasks")))
	if d.Pids.Current != uint64(tasks) || d.Pids.Limit != 100 {
		t.Errorf("pids: got current %d limit %d, want %d (tasks on the host) and 100", d.Pids.Current, d.Pids.Limit, tasks)
	}
	c.deleteAndCheck("--force")
}
