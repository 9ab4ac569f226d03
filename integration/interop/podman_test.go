package interop_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// limits keep podman's default rlimits (nofile 1048576) under this host's
// hard limits, which the tests cannot raise.
var limits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

// pod drives podman with berth-runtime as its OCI runtime.
type pod struct {
	t      *testing.T
	podman string
	image  string
	log    string // berth-runtime's log: errors of the runtime calls podman made
}

func newPod(t *testing.T, image string) *pod {
	t.Helper()
	return &pod{t: t, podman: testutil.RequireBinary(t, "podman"), image: image,
		log: filepath.Join(t.TempDir(), "berth-runtime.log")}
}

// args prefixes a podman command line with the runtime options.
func (p *pod) args(args ...string) []string {
	return append([]string{"--runtime", binary, "--runtime-flag", "log=" + p.log}, args...)
}

func (p *pod) run(args ...string) result {
	p.t.Helper()
	return run(p.t, p.podman, p.args(args...)...)
}

// ok runs podman and fails the test unless it exits 0.
func (p *pod) ok(args ...string) string {
	p.t.Helper()
	res := p.run(args...)
	if res.code != 0 {
		p.t.Fatalf("podman %s: %s\n%s", strings.Join(args, " "), res, runtimeLog(p.log))
	}
	return res.stdout
}

// container returns a new container name, removed (with its container, if
// any) at cleanup.
func (p *pod) container() string {
	name := unique("berth-interop")
	p.t.Cleanup(func() { run(p.t, p.podman, "rm", "--force", "--time", "0", "--ignore", name) })
	return name
}

// runArgs is podman run's command line for the image: the given flags,
// then the container's command.
func (p *pod) runArgs(flags []string, cmd ...string) []string {
	args, _ := p.runNamed(flags, cmd...)
	return args
}

// runNamed is runArgs that also returns the container's name.
func (p *pod) runNamed(flags []string, cmd ...string) (args []string, name string) {
	name = p.container()
	args = append([]string{"run", "--name", name}, limits...)
	args = append(append(args, flags...), p.image)
	return append(args, cmd...), name
}

type podmanInspect struct {
	ID    string
	State struct {
		Status   string
		Pid      int
		ExitCode int
	}
	OCIConfigPath string
}

func (p *pod) inspect(name string) podmanInspect {
	p.t.Helper()
	var out []podmanInspect
	if err := json.Unmarshal([]byte(p.ok("container", "inspect", name)), &out); err != nil || len(out) != 1 {
		p.t.Fatalf("decode podman inspect of %s: %v (%d entries)", name, err, len(out))
	}
	return out[0]
}

// TestPodman runs containers with podman --runtime berth-runtime, from an
// image made for the test.
func TestPodman(t *testing.T) {
	t.Parallel()
	image := podmanImage(t)
	testutil.RequireBinary(t, "conmon")
	t.Run("run", func(t *testing.T) { testPodmanRun(t, image) })
	t.Run("tty", func(t *testing.T) {
		t.Parallel()
		p := newPod(t, image)
		res := runPTY(t, p.podman, p.args(p.runArgs([]string{"--rm", "--tty"}, ttyScript...)...)...)
		checkTTY(t, res, "/dev/pts/0")
	})
	t.Run("interactive tty", func(t *testing.T) {
		t.Parallel()
		p := newPod(t, image)
		checkShell(t, typePTY(t, shellInput, p.podman, p.args(p.runArgs([]string{"--rm", "--interactive", "--tty"}, "sh")...)...))
	})
	t.Run("detached", func(t *testing.T) {
		t.Parallel()
		testPodmanDetached(t, newPod(t, image))
	})
	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		p := newPod(t, image)
		res := runIn(t, strings.NewReader("piped\n"), p.podman, p.args(p.runArgs([]string{"--rm", "--interactive"}, "cat")...)...)
		if res.code != 0 || res.stdout != "piped\n" {
			t.Errorf("podman run -i cat: got %s, want exit 0 and the input back", res)
		}
	})
	t.Run("volumes", func(t *testing.T) {
		t.Parallel()
		p := newPod(t, image)
		dir := t.TempDir()
		flags := []string{"--rm", "--volume", dir + ":/data", "--volume", dir + ":/ro:ro", "--tmpfs", "/scratch"}
		script := `echo x >/data/f; echo y 2>/dev/null >/ro/g || echo ro; touch /scratch/s && grep " /scratch " /proc/self/mountinfo | grep -c tmpfs`
		res := p.run(p.runArgs(flags, "sh", "-c", script)...)
		if res.code != 0 || res.stdout != "ro\n1\n" {
			t.Errorf("podman run with volumes: got %s, want exit 0, \"ro\" (read-only /ro) and 1 (tmpfs /scratch)\n%s", res, runtimeLog(p.log))
		}
		if data, err := os.ReadFile(filepath.Join(dir, "f")); string(data) != "x\n" {
			t.Errorf("host side of /data/f: got %q, %v; want \"x\\n\"", data, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "g")); err == nil {
			t.Errorf("write through the read-only volume reached the host")
		}
	})
}

// testPodmanRun runs short-lived containers with podman run --rm, each with
// one option, and checks the option's effect from inside.
func testPodmanRun(t *testing.T, image string) {
	const (
		memLimit  = `cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max`
		pidsMax   = `cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max`
		pidsEvent = `cat /sys/fs/cgroup/pids/pids.events 2>/dev/null || cat /sys/fs/cgroup/pids.events`
	)
	observe := []string{"/observer", "info"}
	tests := []struct {
		name  string
		flags []string
		cmd   []string
		code  int
		check func(t *testing.T, out string)
	}{
		{"echo", nil, []string{"echo", "hi"}, 0, wantOut("hi\n")},
		{"exit code", nil, []string{"sh", "-c", "exit 3"}, 3, wantOut("")},
		// podman tells these apart by the runtime's error message, as runc's.
		{"command not found", nil, []string{"/nonexistent"}, 127, wantOut("")},
		{"not executable", nil, []string{"/etc/passwd"}, 126, wantOut("")},
		{"default security", nil, observe, 0, func(t *testing.T, out string) {
			o := decodeObserved(t, out)
			if o.Pid != 1 || o.UID != 0 {
				t.Errorf("got pid %d uid %d, want pid 1 uid 0", o.Pid, o.UID)
			}
			// podman's default profile: needs runtime/seccomp to load it.
			if o.Status["Seccomp"] != "2" {
				t.Errorf("Seccomp: got %q, want 2 (podman's default profile in filter mode)", o.Status["Seccomp"])
			}
			bnd := o.Status["CapBnd"]
			if o.Status["CapEff"] != bnd || o.Status["CapPrm"] != bnd || bnd == "0000000000000000" {
				t.Errorf("got CapEff %s CapPrm %s CapBnd %s, want podman's default set in all three",
					o.Status["CapEff"], o.Status["CapPrm"], bnd)
			}
			if want := capMask(t, []string{"CAP_SYS_ADMIN"}); capHas(t, bnd, want) {
				t.Errorf("CapBnd %s holds CAP_SYS_ADMIN, which podman does not grant by default", bnd)
			}
		}},
		{"seccomp unconfined", []string{"--security-opt", "seccomp=unconfined"}, observe, 0, func(t *testing.T, out string) {
			if o := decodeObserved(t, out); o.Status["Seccomp"] != "0" {
				t.Errorf("Seccomp: got %q, want 0", o.Status["Seccomp"])
			}
		}},
		{"memory", []string{"--memory", "32m"}, []string{"sh", "-c", memLimit + "; /observer oom"}, 137, func(t *testing.T, out string) {
			if first, _, _ := strings.Cut(out, "\n"); first != "33554432" {
				t.Errorf("memory limit inside: got %q, want 33554432", first)
			}
		}},
		{"pids limit", []string{"--pids-limit", "20"}, []string{"sh", "-c", pidsMax + "; /observer forkbomb; " + pidsEvent}, 0, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || lines[0] != "20" || !strings.HasSuffix(lines[1], "resource temporarily unavailable") {
				t.Fatalf("got %q, want pids.max 20, then a fork bomb stopped by EAGAIN, then pids.events", out)
			}
			if n, err := strconv.Atoi(strings.TrimPrefix(lines[2], "max ")); err != nil || n == 0 {
				t.Errorf("pids.events: got %q, want \"max N\" with N > 0 (forks refused by the limit)", lines[2])
			}
		}},
		{"user", []string{"--user", "1000:1000"}, observe, 0, func(t *testing.T, out string) {
			o := decodeObserved(t, out)
			if o.UID != 1000 || o.EUID != 1000 || o.GID != 1000 || o.EGID != 1000 {
				t.Errorf("got uid %d euid %d gid %d egid %d, want all 1000", o.UID, o.EUID, o.GID, o.EGID)
			}
			if o.Status["CapEff"] != "0000000000000000" || o.Status["CapPrm"] != "0000000000000000" {
				t.Errorf("got CapEff %s CapPrm %s, want none for uid 1000", o.Status["CapEff"], o.Status["CapPrm"])
			}
		}},
		{"read-only", []string{"--read-only"}, []string{"sh", "-c", "/observer write /etc/x; /observer write /tmp/x"}, 0,
			wantOut("error: open /etc/x: read-only file system\nok\n")},
		{"cap-drop ALL", []string{"--cap-drop", "ALL"}, observe, 0, func(t *testing.T, out string) {
			o := decodeObserved(t, out)
			for _, set := range []string{"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"} {
				if o.Status[set] != "0000000000000000" {
					t.Errorf("%s: got %s, want 0000000000000000", set, o.Status[set])
				}
			}
		}},
		{"privileged", []string{"--privileged"}, observe, 0, func(t *testing.T, out string) {
			o, want := decodeObserved(t, out), hostStatus(t, "CapBnd")
			if o.Status["CapEff"] != want || o.Status["CapBnd"] != want || o.Status["Seccomp"] != "0" {
				t.Errorf("got CapEff %s CapBnd %s Seccomp %s; want the host's bounding set %s and no seccomp",
					o.Status["CapEff"], o.Status["CapBnd"], o.Status["Seccomp"], want)
			}
		}},
		{"host namespaces", []string{"--pid", "host", "--network", "host", "--uts", "host", "--ipc", "host"}, []string{"sh", "-c", nsScript}, 0, func(t *testing.T, out string) {
			ns := parseNS(t, out)
			for _, typ := range []string{"pid", "net", "uts", "ipc"} {
				if host := hostNS(t, typ); ns[typ] != host {
					t.Errorf("%s namespace: got %s, want the host's %s", typ, ns[typ], host)
				}
			}
			if host := hostNS(t, "mnt"); ns["mnt"] == host {
				t.Errorf("mnt namespace: got the host's %s, want a new one", host)
			}
		}},
		// net.* is set in the network namespace podman made and passed by
		// path, kernel.msgmax in the new IPC namespace.
		{"sysctl", []string{"--sysctl", "net.ipv4.ip_unprivileged_port_start=5", "--sysctl", "kernel.msgmax=9000"},
			[]string{"cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/msgmax"}, 0, func(t *testing.T, out string) {
				wantOut("5\n9000\n")(t, out)
				if host, _ := os.ReadFile("/proc/sys/kernel/msgmax"); string(host) == "9000\n" {
					t.Errorf("the host's kernel.msgmax changed to 9000")
				}
			}},
		{"uidmap", []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"},
			[]string{"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u:%g /bin/busybox"}, 0, func(t *testing.T, out string) {
				if got, want := strings.Fields(out), []string{"0", "100000", "65536", "0", "100000", "65536", "0", "0:0"}; !slices.Equal(got, want) {
					t.Errorf("got uid_map, gid_map, uid, owner of /bin/busybox %q, want %q", got, want)
				}
			}},
		{"init", []string{"--init"}, []string{"cat", "/proc/1/cmdline"}, 0, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "/run/podman-init\x00") {
				t.Errorf("pid 1's command line: got %q, want podman's init /run/podman-init", out)
			}
		}},
		{"cgroupns private", []string{"--cgroupns", "private"}, []string{"cat", "/proc/self/cgroup"}, 0, func(t *testing.T, out string) {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasSuffix(line, ":/") {
					t.Errorf("/proc/self/cgroup line %q: want the namespace's root /", line)
				}
			}
		}},
		{"process options", []string{"--security-opt", "no-new-privileges", "--oom-score-adj", "500"}, observe, 0, func(t *testing.T, out string) {
			if o := decodeObserved(t, out); o.Status["NoNewPrivs"] != "1" || o.OOMScoreAdj != "500" {
				t.Errorf("got NoNewPrivs %q oom_score_adj %q, want 1 and 500", o.Status["NoNewPrivs"], o.OOMScoreAdj)
			}
		}},
		{"device shm cpus", []string{"--device", "/dev/null:/dev/xnull", "--shm-size", "1m", "--cpus", "0.5"},
			[]string{"sh", "-c", `stat -c %t:%T /dev/xnull; grep -o " /dev/shm .*size=[0-9]*k" /proc/self/mountinfo | grep -o "size=.*"; ` +
				`cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us`}, 0,
			wantOut("1:3\nsize=1024k\n50000\n100000\n")},
		{"hostname env workdir", []string{"--hostname", "interop", "--env", "FOO=bar", "--workdir", "/tmp"}, observe, 0, func(t *testing.T, out string) {
			o := decodeObserved(t, out)
			if o.Hostname != "interop" || o.Cwd != "/tmp" || !strings.Contains(strings.Join(o.Env, "\n")+"\n", "FOO=bar\n") {
				t.Errorf("got hostname %q cwd %q env %q; want interop, /tmp and FOO=bar", o.Hostname, o.Cwd, o.Env)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPod(t, image)
			cidfile := filepath.Join(t.TempDir(), "cid")
			res := p.run(p.runArgs(append([]string{"--rm", "--cidfile", cidfile}, tt.flags...), tt.cmd...)...)
			if res.code != tt.code {
				t.Fatalf("podman run %v: %s; want exit %d\n%s", tt.flags, res, tt.code, runtimeLog(p.log))
			}
			tt.check(t, res.stdout)
			checkForgotten(t, cidfile)
		})
	}
}

// checkForgotten checks that berth-runtime keeps no state of the
// container whose id podman wrote to cidfile.
func checkForgotten(t *testing.T, cidfile string) {
	t.Helper()
	id, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatalf("podman's cidfile: %v", err)
	}
	if status, _ := runtimeState(t, string(id)); status != "" {
		t.Errorf("berth-runtime state of %s after podman run --rm: got %q, want none", id, status)
	}
}

// hostStatus returns a field of this test's /proc/self/status.
func hostStatus(t *testing.T, field string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return ""
}

// hostNS returns this test's namespace of a type, as nsScript prints it.
func hostNS(t *testing.T, typ string) string {
	t.Helper()
	link, err := os.Readlink("/proc/self/ns/" + typ)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func wantOut(want string) func(*testing.T, string) {
	return func(t *testing.T, got string) {
		if got != want {
			t.Errorf("got output %q, want %q", got, want)
		}
	}
}

// capHas reports whether the hex capability mask set holds all of want's.
func capHas(t *testing.T, set, want string) bool {
	s, err1 := strconv.ParseUint(set, 16, 64)
	w, err2 := strconv.ParseUint(want, 16, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("capability masks %q, %q: not hex", set, want)
	}
	return s&w == w
}

// testPodmanDetached takes one container through podman's lifecycle: run
// -d, inspect, exec, exec -t, update, pause, unpause, restart, stop, rm; and
// checks that its init is what podman's OCI configuration asked for.
func testPodmanDetached(t *testing.T, p *pod) {
	args, name := p.runNamed([]string{"--detach"}, "sh", "-c", initScript)
	id := strings.TrimSpace(p.ok(args...))
	st := p.inspect(name)
	pid0 := st.State.Pid
	if st.State.Status != "running" || st.State.Pid <= 0 || st.ID != id {
		t.Fatalf("podman inspect after run -d: got id %s status %q pid %d; want %s running", st.ID, st.State.Status, st.State.Pid, id)
	}
	// berth-runtime's own view (podman keeps the runtime's default --root).
	if status, pid := runtimeState(t, id); status != "running" || pid != st.State.Pid {
		t.Errorf("berth-runtime state %s: got %q pid %d, want running pid %d", id, status, pid, st.State.Pid)
	}
	if !waitFor(func() bool { return p.run("exec", name, "test", "-e", "/tmp/ready").code == 0 }) {
		t.Fatalf("init did not record itself in /tmp/ready\n%s", runtimeLog(p.log))
	}
	o := decodeObserved(t, p.ok("exec", name, "cat", "/tmp/info.json"))
	ns := parseNS(t, p.ok("exec", name, "cat", "/tmp/ns"))
	spec := loadSpec(t, st.OCIConfigPath)
	checkSpec(t, spec, o, ns)

	if got := parseNS(t, p.ok("exec", name, "sh", "-c", nsScript)); !maps.Equal(got, ns) {
		t.Errorf("exec'd process namespaces: got %v, want init's %v", got, ns)
	}
	if res := p.run("exec", name, "sh", "-c", "echo from exec; exit 5"); res.code != 5 || res.stdout != "from exec\n" {
		t.Errorf("podman exec: got %s, want exit 5 and \"from exec\\n\"", res)
	}
	if res := p.run("exec", name, "/nonexistent"); res.code != 127 {
		t.Errorf("podman exec /nonexistent: got %s, want exit 127 (command not found)", res)
	}
	checkTTY(t, runPTY(t, p.podman, p.args(append([]string{"exec", "--tty", name}, ttyScript...)...)...), `/dev/pts/\d+`)
	eo := decodeObserved(t, p.ok("exec", "--user", "1000:1000", "--workdir", "/tmp", "--env", "FOO=bar", name, "/observer", "info"))
	if eo.UID != 1000 || eo.GID != 1000 || eo.Cwd != "/tmp" || !slices.Contains(eo.Env, "FOO=bar") || eo.Status["CapEff"] != "0000000000000000" {
		t.Errorf("podman exec --user 1000:1000 --workdir /tmp --env FOO=bar: got uid %d gid %d cwd %q env %q CapEff %s",
			eo.UID, eo.GID, eo.Cwd, eo.Env, eo.Status["CapEff"])
	}

	// Another container joins this one's namespaces, by /proc/PID/ns paths.
	joined := parseNS(t, p.ok(p.runArgs([]string{"--rm", "--pid", "container:" + name, "--network", "container:" + name,
		"--ipc", "container:" + name, "--uts", "container:" + name}, "sh", "-c", nsScript)...))
	for _, typ := range []string{"pid", "net", "ipc", "uts"} {
		if joined[typ] != ns[typ] {
			t.Errorf("--%s container:%s: got %s, want the container's %s", typ, name, joined[typ], ns[typ])
		}
	}

	// podman update hands berth-runtime update a resources file.
	p.ok("update", "--memory", "128m", "--cpu-shares", "512", name)
	if out := p.ok("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.shares"); out != "134217728\n512\n" {
		t.Errorf("after podman update --memory 128m --cpu-shares 512: got %q, want \"134217728\\n512\\n\"", out)
	}

	p.ok("pause", name)
	if s := p.inspect(name).State.Status; s != "paused" {
		t.Errorf("after podman pause: got status %q, want paused", s)
	}
	p.ok("unpause", name)
	if s := p.inspect(name).State.Status; s != "running" {
		t.Errorf("after podman unpause: got status %q, want running", s)
	}

	// restart: delete, then create and start again under the same id.
	p.ok("restart", "--time", "30", name)
	if st := p.inspect(name).State; st.Status != "running" || st.Pid == pid0 {
		t.Errorf("after podman restart: got status %q pid %d, want running with a new pid (was %d)", st.Status, st.Pid, pid0)
	}

	// podman stop sends SIGTERM first: init's trap exits 42, where the
	// SIGKILL after the timeout would have made 137.
	p.ok("stop", "--time", "30", name)
	if st := p.inspect(name).State; st.Status != "exited" || st.ExitCode != 42 {
		t.Errorf("after podman stop: got status %q exit %d, want exited 42", st.Status, st.ExitCode)
	}
	p.ok("rm", name)
	if status, _ := runtimeState(t, id); status != "" {
		t.Errorf("berth-runtime state of %s after podman rm: got %q, want none", id, status)
	}
	checkCgroupsGone(t, spec.Linux.CgroupsPath)
}

// checkCgroupsGone checks that no hierarchy holds the container's cgroup.
func checkCgroupsGone(t *testing.T, cgroupsPath string) {
	t.Helper()
	if !strings.HasPrefix(cgroupsPath, "/") {
		return // the systemd driver's slice:prefix:name form
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*")
	dirs = append(dirs, "/sys/fs/cgroup")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, cgroupsPath)); err == nil {
			t.Errorf("cgroup %s left after removal", filepath.Join(d, cgroupsPath))
		}
	}
}
