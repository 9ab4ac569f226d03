package engine_test

import (
	"os"
	"strings"
	"testing"
	"time"
)

// nsOf is the namespace a process of ours is in (readlink of
// /proc/PID/ns/KIND).
func nsOf(t *testing.T, pid, kind string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
	if err != nil {
		t.Fatalf("namespace %s of %s: %v", kind, pid, err)
	}
	return l
}

// TestNamespaceModes: --network, --ipc and --pid container:NAME join the
// target's namespaces (and its /dev/shm, hostname); the other modes of
// --ipc, --pid, --uts, --userns and --cgroupns; refusals with dockerd's
// messages when the target does not run or does not share; and a joined
// container that outlives its target.
func TestNamespaceModes(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image
	d.OK("run", "-d", "--name", "target", "--ipc", "shareable", img, "sh", "-c", "echo shared > /dev/shm/f; exec sleep 1000")
	targetPid := d.inspect("target", "{{.State.Pid}}")
	waitFor(t, "the target's /dev/shm file", 10*time.Second, func() bool { return d.Docker("exec", "target", "cat", "/dev/shm/f").Stdout == "shared\n" })

	d.OK("run", "-d", "--name", "joined", "--network", "container:target", "--ipc", "container:target", "--pid", "container:target", img, "sleep", "1000")
	joinedPid := d.inspect("joined", "{{.State.Pid}}")
	for _, kind := range []string{"net", "ipc", "pid"} {
		if got, want := nsOf(t, joinedPid, kind), nsOf(t, targetPid, kind); got != want {
			t.Errorf("joined's %s namespace: got %s, want the target's %s", kind, got, want)
		}
	}
	if got, want := nsOf(t, joinedPid, "mnt"), nsOf(t, targetPid, "mnt"); got == want {
		t.Errorf("joined shares the target's mount namespace %s", got)
	}
	if out := d.OK("exec", "joined", "cat", "/dev/shm/f"); out != "shared\n" {
		t.Errorf("joined's /dev/shm: got %q, want the target's file", out)
	}
	if out := d.OK("exec", "joined", "hostname"); out != d.OK("exec", "target", "hostname") {
		t.Errorf("joined's hostname: got %q, want the target's", out)
	}
	if out := d.OK("exec", "joined", "ps", "-o", "comm"); strings.Count(out, "sleep") < 2 {
		t.Errorf("joined's ps: got %q, want the target's processes too", out)
	}
	d.OK("rm", "-f", "joined")

	modes := []struct {
		flag, mode, kind string
		host             bool // the host's namespace, else the container's own
	}{
		{"--pid", "host", "pid", true},
		{"--uts", "host", "uts", true},
		{"--ipc", "host", "ipc", true},
		{"--ipc", "private", "ipc", false},
		{"--ipc", "none", "ipc", false},
		{"--userns", "host", "user", true},
		{"--cgroupns", "host", "cgroup", true},
		{"--cgroupns", "private", "cgroup", false},
	}
	for _, m := range modes {
		got := strings.TrimSpace(d.OK("run", "--rm", m.flag, m.mode, img, "readlink", "/proc/self/ns/"+m.kind))
		if host := nsOf(t, "self", m.kind); (got == host) != m.host {
			t.Errorf("%s %s: got %s namespace %s, the host's is %s", m.flag, m.mode, m.kind, got, host)
		}
	}
	if out := d.Docker("run", "--rm", "--ipc", "none", img, "ls", "/dev/shm"); out.Code == 0 {
		t.Errorf("--ipc none: /dev/shm exists: %q", out.Stdout)
	}
	if out := d.OK("run", "--rm", "--uts", "host", img, "hostname"); strings.TrimSpace(out) != hostname(t) {
		t.Errorf("--uts host: got hostname %q, want %q", out, hostname(t))
	}

	// Refusals, as dockerd words them.
	d.OK("run", "-d", "--name", "private", img, "sleep", "1000")
	d.OK("create", "--name", "idle", img, "true")
	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"--ipc", "container:private"}, "can't join IPC of container private: non-shareable IPC"},
		{[]string{"--ipc", "container:idle"}, "is not running"},
		{[]string{"--pid", "container:idle"}, "is not running"},
		{[]string{"--network", "container:idle"}, "cannot join network of a non running container: idle"},
		{[]string{"--pid", "container:nosuch"}, "No such container: nosuch"},
		{[]string{"--network", "container:nosuch"}, "No such container: nosuch"},
	}
	for _, r := range refusals {
		res := d.Docker(append(append([]string{"run", "--rm"}, r.args...), img, "true")...)
		if res.Code != 125 || !strings.Contains(res.Stderr, r.want) {
			t.Errorf("run %v: got exit %d, stderr %q; want 125 and %q", r.args, res.Code, res.Stderr, r.want)
		}
	}

	// A container that joined the target's network and IPC namespaces
	// runs on when the target goes, as with Docker; starting it again then
	// needs the target.
	d.OK("run", "-d", "--name", "dependent", "--network", "container:target", "--ipc", "container:target", img, "sleep", "1000")
	d.OK("rm", "-f", "target")
	if got := d.inspect("dependent", "{{.State.Status}}"); got != "running" {
		t.Errorf("dependent after its target was removed: got %s, want running", got)
	}
	if out := d.OK("exec", "dependent", "cat", "/dev/shm/f"); out != "shared\n" {
		t.Errorf("dependent's /dev/shm after the target went: got %q", out)
	}
	d.OK("stop", "-t", "0", "dependent")
	if res := d.Docker("start", "dependent"); res.Code == 0 || !strings.Contains(res.Stderr, "No such container: target") {
		t.Errorf("start of a dependent whose target is gone: got exit %d, stderr %q", res.Code, res.Stderr)
	}
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
