package runtime_test

// The verbs around a running container: ps, list, kill --all, pause and
// resume (processes really frozen), delete --force.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/testbundle"
)

// withoutPidns drops the pid namespace, so the container's other
// processes outlive its init, as they do with --pid host.
func withoutPidns(b *testbundle.Bundle) {
	var ns []specs.LinuxNamespace
	for _, n := range b.Spec.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	b.Spec.Linux.Namespaces = ns
}

// psPids asks `ps --format json` for the container's pids.
func (c *liveCtr) psPids() []int {
	c.r.t.Helper()
	var pids []int
	out := c.r.ok("ps", "--format", "json", c.id)
	if err := json.Unmarshal([]byte(out), &pids); err != nil {
		c.r.t.Fatalf("decode ps --format json %q: %v", out, err)
	}
	slices.Sort(pids)
	return pids
}

func TestPsAndList(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", "/observer sleep & echo child=$!; wait")
	c := r.startLive(b)
	out := c.waitOutput("\n")
	// The child's pid as the container sees it; on the host it is the
	// other pid in the cgroup.
	if !strings.HasPrefix(out, "child=") {
		t.Fatalf("got %q", out)
	}
	var pids []int
	pollUntil(t, "two processes in ps", func() bool { pids = c.psPids(); return len(pids) == 2 })
	if !slices.Contains(pids, c.pid) {
		t.Errorf("ps json: got %v, want init %d in it", pids, c.pid)
	}
	want := slices.Clone(pids)
	cgroupProcs := strings.Fields(hostCgroupFile(t, c.pid, "pids", "cgroup.procs"))
	var got []int
	for _, p := range cgroupProcs {
		n, _ := strconv.Atoi(p)
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ps json: got %v, want the cgroup's processes %v", want, got)
	}

	table := r.ok("ps", c.id)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "PID") {
		t.Fatalf("ps table: got %q, want a header and two rows", table)
	}
	for _, p := range pids {
		if !strings.Contains(table, " "+strconv.Itoa(p)+" ") {
			t.Errorf("ps table %q lacks pid %d", table, p)
		}
	}
	// ps options after the id go to ps(1).
	if out := r.ok("ps", c.id, "-o", "pid,comm"); !strings.Contains(out, "observer") || !strings.Contains(out, "sh") {
		t.Errorf("ps -o pid,comm: got %q, want sh and observer", out)
	}

	// list: a second container, created only.
	c2 := r.createLive(testbundle.New(t, "true"))
	tbl := r.ok("list")
	for _, want := range [][]string{{c.id, strconv.Itoa(c.pid), "running", b.Dir}, {c2.id, "created"}} {
		found := false
		for _, l := range strings.Split(tbl, "\n") {
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == want[0] {
				found = true
				for _, w := range want[1:] {
					if !slices.Contains(f, w) {
						t.Errorf("list row %q: want %q in it", l, w)
					}
				}
			}
		}
		if !found {
			t.Errorf("list: got %q, want a row for %s", tbl, want[0])
		}
	}
	if !strings.HasPrefix(tbl, "ID") || !strings.Contains(strings.SplitN(tbl, "\n", 2)[0], "STATUS") {
		t.Errorf("list: header %q, want ID … STATUS …", strings.SplitN(tbl, "\n", 2)[0])
	}
	var entries []struct {
		OCIVersion, ID, Status, Bundle, Rootfs, Owner string
		Pid                                           int
		Created                                       time.Time
	}
	if err := json.Unmarshal([]byte(r.ok("list", "--format", "json")), &entries); err != nil {
		t.Fatalf("decode list --format json: %v", err)
	}
	byID := map[string]int{}
	for i, e := range entries {
		byID[e.ID] = i
	}
	if i, ok := byID[c.id]; !ok || entries[i].Status != "running" || entries[i].Pid != c.pid || entries[i].Bundle != b.Dir ||
		entries[i].Owner != "root" || entries[i].Created.IsZero() || entries[i].OCIVersion == "" {
		t.Errorf("list json: got %+v, want %s running with pid %d, bundle %s, owner root", entries, c.id, c.pid, b.Dir)
	}
	if i, ok := byID[c2.id]; !ok || entries[i].Status != "created" {
		t.Errorf("list json: got %+v, want %s created", entries, c2.id)
	}
	q := strings.Fields(r.ok("list", "-q"))
	slices.Sort(q)
	wantIDs := []string{c.id, c2.id}
	slices.Sort(wantIDs)
	if !slices.Equal(q, wantIDs) {
		t.Errorf("list -q: got %v, want %v", q, wantIDs)
	}
	c.deleteAndCheck("--force")
	c2.deleteAndCheck()
	if out := strings.TrimSpace(r.ok("list", "-q")); out != "" {
		t.Errorf("list -q after delete: got %q, want nothing", out)
	}
}

// TestKillAll: without a pid namespace, killing init leaves its children;
// kill --all reaches every process of the cgroup.
func TestKillAll(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", "/observer sleep & /observer sleep & echo started; wait")
	withoutPidns(b)
	c := r.startLive(b)
	c.waitOutput("started")
	var pids []int
	pollUntil(t, "three processes in ps", func() bool { pids = c.psPids(); return len(pids) == 3 })
	r.ok("kill", "--all", c.id, "KILL")
	for _, p := range pids {
		pollUntil(t, "process "+strconv.Itoa(p)+" to die", func() bool { return procGone(p) })
	}
	waitStatus(t, r, c.id, "stopped")
	if res := r.run("kill", "--all", c.id, "KILL"); res.code == 0 || !strings.Contains(res.stderr, "not running") {
		t.Errorf("kill --all of a stopped container: exit %d, stderr %q; want a refusal", res.code, res.stderr)
	}
	c.deleteAndCheck()
}

// TestKillSignal: a named signal reaches init, which reports it.
func TestKillSignal(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", `trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done`)
	c := r.startLive(b)
	c.waitOutput("ready")
	for _, sig := range []string{"USR1", "SIGUSR1", "10"} {
		os.Truncate(c.out, 0)
		r.ok("kill", c.id, sig)
		c.waitOutput("got-usr1")
	}
	if res := r.run("kill", c.id, "NOPE"); res.code == 0 || !strings.Contains(res.stderr, "NOPE") {
		t.Errorf("kill NOPE: exit %d, stderr %q; want an error naming the signal", res.code, res.stderr)
	}
	c.deleteAndCheck("--force")
}

// TestPauseResume: a paused container's counter stops advancing and the
// freezer says FROZEN; after resume it advances again.
func TestPauseResume(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; done")
	c := r.startLive(b)
	counter := filepath.Join(b.Rootfs, "tmp", "counter")
	read := func() string { data, _ := os.ReadFile(counter); return strings.TrimSpace(string(data)) }
	advances := func() {
		t.Helper()
		first := read()
		pollUntil(t, "the counter to advance", func() bool { v := read(); return v != first && v != "" })
	}
	advances()

	r.ok("pause", c.id)
	if st := r.state(c.id)["status"]; st != "paused" {
		t.Errorf("after pause: status %v, want paused", st)
	}
	if got := hostCgroupFile(t, c.pid, "freezer", "freezer.state"); got != "FROZEN" {
		t.Errorf("freezer.state: got %q, want FROZEN", got)
	}
	// Frozen: the value must not move at all. (The wait only gives a
	// running loop many chances to move it; nothing is asserted on time.)
	v1 := read()
	time.Sleep(200 * time.Millisecond)
	if v2 := read(); v2 != v1 {
		t.Errorf("counter moved from %s to %s while paused", v1, v2)
	}
	if res := r.run("pause", c.id); res.code == 0 {
		t.Errorf("pause of a paused container succeeded, want an error")
	}
	if res := r.run("exec", c.id, "true"); res.code == 0 {
		t.Errorf("exec into a paused container succeeded, want an error")
	}

	r.ok("resume", c.id)
	if st := r.state(c.id)["status"]; st != "running" {
		t.Errorf("after resume: status %v, want running", st)
	}
	advances()
	if res := r.run("resume", c.id); res.code == 0 || !strings.Contains(res.stderr, "not paused") {
		t.Errorf("resume of a running container: exit %d, stderr %q; want a refusal", res.code, res.stderr)
	}

	// A paused container can be deleted with --force.
	r.ok("pause", c.id)
	c.deleteAndCheck("--force")
}

// TestDeleteForce removes running containers, with and without a pid
// namespace, leaving nothing.
func TestDeleteForce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pidns bool
	}{{"pidns", true}, {"no-pidns", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "sh", "-c", "/observer sleep & /observer sleep & echo started; wait")
			if !tc.pidns {
				withoutPidns(b)
			}
			c := r.startLive(b)
			c.waitOutput("started")
			var pids []int
			pollUntil(t, "three processes", func() bool { pids = c.psPids(); return len(pids) == 3 })
			if res := r.run("delete", c.id); res.code == 0 {
				t.Fatalf("delete of a running container without --force succeeded")
			}
			c.deleteAndCheck("--force")
			for _, p := range pids {
				if !procGone(p) {
					t.Errorf("process %d still runs after delete --force", p)
				}
			}
			if res := r.run("state", c.id); res.code == 0 {
				t.Errorf("state after delete succeeded")
			}
			// Deleting what is gone: --force is quiet, plain delete is not.
			if res := r.run("delete", "--force", c.id); res.code != 0 {
				t.Errorf("delete --force of a missing container: exit %d, %s", res.code, res.stderr)
			}
			if res := r.run("delete", c.id); res.code == 0 || !strings.Contains(res.stderr, "does not exist") {
				t.Errorf("delete of a missing container: exit %d, stderr %q", res.code, res.stderr)
			}
		})
	}
}
