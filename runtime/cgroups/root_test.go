package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Root tests run on the host's real cgroupfs (hybrid on the development
// machines). Each works in a cgroup named after the test and the pid, and
// its cleanup kills the child and removes every directory it created, also
// when the test fails.

func testCgroup(name string) string {
	return fmt.Sprintf("/berth-test-%d-%s", os.Getpid(), name)
}

// cleanupCgroups removes the cgroup at every path at the end of the test,
// after the helper child is killed (it is started later, so its cleanup runs
// first). Controllers Apply enabled in the unified root's subtree_control
// stay enabled, as after any engine: disabling one would take it away from
// every other cgroup on the machine that uses it, and the kernel refuses
// only when a child enabled it further down, not when one merely uses it.
func cleanupCgroups(t *testing.T, m Manager) {
	t.Helper()
	paths := m.Paths()
	t.Cleanup(func() {
		for _, dir := range paths {
			if err := removeCgroup(dir); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
}

func procCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	own, err := ownCgroups(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	return own
}

func readTrim(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := readFile(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRootLifecycle runs a container's whole cgroup life on the host layout.
func TestRootLifecycle(t *testing.T) {
	testutil.RequireRoot(t)
	cg := testCgroup("life")
	m, err := New(Options{Path: cg})
	if err != nil {
		t.Fatal(err)
	}
	mode, err := Mode("", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host cgroup layout: %s", mode)
	cleanupCgroups(t, m)
	child := startHelper(t, "spin")
	pid := child.cmd.Process.Pid

	if err := m.Apply(pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	in := procCgroups(t, pid)
	for key := range m.Paths() {
		if in[key] != cg {
			t.Errorf("hierarchy %q: got the child in %q, want %q", key, in[key], cg)
		}
	}
	rootSet(t, m)
	rootFreeze(t, m)
	rootStats(t, m, pid)

	l, err := Load(Options{}, m.Paths())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s, err := l.FreezerState(); err != nil || s != Thawed {
		t.Errorf("reloaded FreezerState: got %q, %v", s, err)
	}
	child.stop()
	if err := l.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for key, dir := range m.Paths() {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%q: %s still there after Destroy (%v)", key, dir, err)
		}
	}
	if m.Exists() {
		t.Error("got Exists true after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// rootSet writes limits and reads the files back, then raises the memory
// limits, which on v1 needs memsw written before the limit.
func rootSet(t *testing.T, m Manager) {
	t.Helper()
	p := m.Paths()
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)},
		Pids:   &specs.LinuxPids{Limit: i64(100)},
		CPU:    &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0", Mems: "0"},
		Devices: []specs.LinuxDeviceCgroup{
			dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true), dev("c", 1, 5, "r", true), dev("c", 136, -1, "rwm", true),
		},
	}
	hugetlbDir, hugetlbV2 := m.(*manager).where("hugetlb")
	if hugetlbDir != "" {
		res.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
	}
	if err := m.Set(res); err != nil {
		t.Fatalf("Set: %v", err)
	}
	type check struct{ dir, file, want string }
	checks := []check{{p["pids"], "pids.max", "100"}, {p["cpuset"], "cpuset.cpus", "0"}}
	if _, ok := p["memory"]; ok { // v1 host
		checks = append(checks,
			check{p["memory"], "memory.limit_in_bytes", "67108864"},
			check{p["memory"], "memory.memsw.limit_in_bytes", "134217728"},
			check{p["cpu"], "cpu.shares", "512"},
			check{p["cpu"], "cpu.cfs_quota_us", "50000"},
			check{p["devices"], "devices.list", "c 1:3 rwm\nc 1:5 r\nc 136:* rwm"},
		)
	}
	if hugetlbDir != "" {
		file := "hugetlb.2MB.limit_in_bytes"
		if hugetlbV2 {
			file = "hugetlb.2MB.max"
		}
		checks = append(checks, check{hugetlbDir, file, "4194304"})
	}
	for _, c := range checks {
		if c.dir == "" {
			continue // not a hierarchy of this host
		}
		if got := readTrim(t, c.dir, c.file); got != c.want {
			t.Errorf("%s: got %q, want %q", c.file, got, c.want)
		}
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(256 << 20), Swap: i64(512 << 20)}}); err != nil {
		t.Fatalf("Set larger memory: %v", err)
	}
	if dir, ok := p["memory"]; ok {
		if got := readTrim(t, dir, "memory.limit_in_bytes"); got != "268435456" {
			t.Errorf("memory.limit_in_bytes after raising: got %s, want 268435456", got)
		}
	}
}

func rootFreeze(t *testing.T, m Manager) {
	t.Helper()
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if s, err := m.FreezerState(); err != nil || s != Frozen {
		t.Errorf("after Freeze: got %q, %v; want %s", s, err, Frozen)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if s, err := m.FreezerState(); err != nil || s != Thawed {
		t.Errorf("after Thaw: got %q, %v; want %s", s, err, Thawed)
	}
}

// waitStats polls Stats until the spinning child shows CPU usage and, if
// memory is accounted, memory usage.
func waitStats(t *testing.T, m Manager, memory bool) *Stats {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := m.Stats()
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if (st.CPU.Usage.Total > 0 && (!memory || st.Memory.Usage.Usage > 0)) || time.Now().After(deadline) {
			return st
		}
	}
}

func rootStats(t *testing.T, m Manager, pid int) {
	t.Helper()
	st := waitStats(t, m, true)
	if st.CPU.Usage.Total == 0 {
		t.Error("got no cpu usage")
	}
	if st.Memory.Usage.Usage == 0 {
		t.Error("got no memory usage")
	}
	if st.Pids.Current == 0 || st.Pids.Limit != 100 {
		t.Errorf("got pids %+v, want some current and limit 100", st.Pids)
	}
	if _, v1 := m.Paths()["memory"]; v1 && st.Memory.Usage.Limit != 256<<20 {
		t.Errorf("got memory limit %d, want %d", st.Memory.Usage.Limit, 256<<20)
	}
	if dir, _ := m.(*manager).where("hugetlb"); dir != "" {
		if _, ok := st.Hugetlb["2MB"]; !ok {
			t.Errorf("got hugetlb stats %v, want a 2MB entry", st.Hugetlb)
		}
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Errorf("OOMKillCount: got %d, %v; want 0", n, err)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, pid) {
		t.Errorf("Pids: got %v, %v; want %d among them", pids, err, pid)
	}
}

// unifiedV2 opens a manager that sees only the host's cgroup2 mount, as on a
// pure v2 host; it skips when there is none.
func unifiedV2(t *testing.T, name string) Manager {
	t.Helper()
	testutil.RequireRoot(t)
	l, err := detect("", "")
	if err != nil {
		t.Fatal(err)
	}
	if l.unified == nil {
		testutil.Skip(t, "test needs a cgroup2 mount")
	}
	m, err := New(Options{Root: l.unified.dir, Path: testCgroup(name)})
	if err != nil {
		t.Fatal(err)
	}
	if mode := m.(*manager).mode; mode != V2 {
		t.Fatalf("got mode %s for %s, want %s", mode, l.unified.dir, V2)
	}
	cleanupCgroups(t, m)
	return m
}

// The v2 code on a real cgroup2 hierarchy: Apply, the device filter, the
// cgroup.freeze freezer, cpu.stat usage and a missing controller.
func TestRootV2(t *testing.T) {
	m := unifiedV2(t, "v2")
	child := startHelper(t, "spin")
	if err := m.Apply(child.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	dir := m.Paths()[""]
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev("a", -1, -1, "rwm", true)}}); err != nil {
		t.Fatalf("Set devices: %v", err)
	}
	avail := strings.Fields(readTrim(t, dir, "cgroup.controllers"))
	if !slices.Contains(avail, "pids") {
		err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}})
		if err == nil || !strings.Contains(err.Error(), "pids cgroup controller is not available") {
			t.Errorf("Set pids without the controller: got %v, want a clear error", err)
		}
	}
	if slices.Contains(avail, "hugetlb") {
		if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 20}}}); err != nil {
			t.Fatalf("Set hugetlb: %v", err)
		}
		if got := readTrim(t, dir, "hugetlb.2MB.max"); got != "2097152" {
			t.Errorf("hugetlb.2MB.max: got %s, want 2097152", got)
		}
	}
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if s, _ := m.FreezerState(); s != Frozen {
		t.Errorf("got %s, want %s", s, Frozen)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if st := waitStats(t, m, false); st.CPU.Usage.Total == 0 {
		t.Error("got no cpu usage from cpu.stat")
	}
	child.stop()
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Destroy", dir)
	}
}

// The compiled device filter, attached to a real cgroup2 directory, lets a
// process in it open only what the rules allow, and Set replaces it.
func TestRootDeviceFilter(t *testing.T) {
	m := unifiedV2(t, "devices")
	child := startHelper(t, "devices")
	if err := m.Apply(child.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	dir := m.Paths()[""]
	for i := 0; i < 2; i++ { // the second Set replaces the first program
		err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true), dev("c", 1, 5, "r", true),
		}})
		if err != nil {
			t.Fatalf("Set devices: %v", err)
		}
	}
	if n := attachedPrograms(t, dir); n != 1 {
		t.Errorf("got %d device programs attached to %s, want 1", n, dir)
	}
	if _, err := child.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for range probes() {
		line, err := child.out.ReadString('\n')
		if err != nil {
			t.Fatalf("read probe result: %v", err)
		}
		name, res, _ := strings.Cut(strings.TrimSpace(line), " ")
		got[name] = res
	}
	want := map[string]string{"null-rw": "ok", "zero-r": "ok", "zero-w": "EPERM", "full-r": "EPERM"}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %s, want %s", name, got[name], w)
		}
	}
	child.stop()
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
}

func attachedPrograms(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ids, err := queryDevicePrograms(fd)
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// A relative cgroupsPath on the real host lands below the test's own cgroup
// in each hierarchy; only the paths are checked, nothing is created.
func TestRootRelativePath(t *testing.T) {
	testutil.RequireRoot(t)
	m, err := New(Options{Path: "berth-rel/x"})
	if err != nil {
		t.Fatal(err)
	}
	own := procCgroups(t, os.Getpid())
	for key, dir := range m.Paths() {
		if !strings.HasSuffix(dir, filepath.Join(own[key], "berth-rel/x")) {
			t.Errorf("%q: got %s, want it below %s", key, dir, own[key])
		}
	}
}

// BenchmarkRootCreate measures what container start pays here: New, Apply
// (without a process), Set of typical resources, and Destroy, on the host's
// cgroupfs.
func BenchmarkRootCreate(b *testing.B) {
	testutil.RequireRoot(b)
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(256 << 20), Swap: i64(512 << 20)},
		CPU:    &specs.LinuxCPU{Shares: u64(1024), Quota: i64(100000), Period: u64(100000)},
		Pids:   &specs.LinuxPids{Limit: i64(1024)},
		Devices: []specs.LinuxDeviceCgroup{
			dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true), dev("c", 1, 5, "rwm", true),
			dev("c", 1, 7, "rwm", true), dev("c", 1, 8, "rwm", true), dev("c", 1, 9, "rwm", true),
			dev("c", 5, 0, "rwm", true), dev("c", 5, 2, "rwm", true), dev("c", 136, -1, "rwm", true),
		},
	}
	for i := 0; b.Loop(); i++ {
		m, err := New(Options{Path: testCgroup("bench-" + strconv.Itoa(i))})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Apply(-1); err != nil {
			b.Fatal(err)
		}
		if err := m.Set(res); err != nil {
			b.Fatal(err)
		}
		if err := m.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}
