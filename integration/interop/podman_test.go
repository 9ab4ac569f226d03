package interop_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
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
	args := append([]string{"run", "--name", p.container()}, limits...)
	args = append(append(args, flags...), p.image)
	return append(args, cmd...)
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

func TestPodman(t *testing.T) {
	image := podmanImage(t)
	testutil.RequireBinary(t, "conmon")
	t.Run("run", func(t *testing.T) { testPodmanRun(t, image) })
	t.Run("tty", func(t *testing.T) {
		t.Parallel()
		p := newPod(t, image)
		res := runPTY(t, p.podman, p.args(p.runArgs([]string{"--rm", "--tty"}, ttyScript...)...)...)
		checkTTY(t, res, "/dev/pts/0")
	})
	t.Run("detached", func(t *testing.T) {
		t.Parallel()
		testPodmanDetached(t, newPod(t, image))
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
			res := p.run(p.runArgs(append([]string{"--rm"}, tt.flags...), tt.cmd...)...)
			if res.code != tt.code {
				t.Fatalf("podman run %v: %s; want exit %d\n%s", tt.flags, res, tt.code, runtimeLog(p.log))
			}
			tt.check(t, res.stdout)
		})
	}
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
// -d, inspect, exec, exec -t, pause, unpause, stop, rm; and checks that its
// init is what podman's OCI configuration asked for.
func testPodmanDetached(t *testing.T, p *pod) {
	args := p.runArgs([]string{"--detach"}, "sh", "-c", initScript)
	name := args[2]
	id := strings.TrimSpace(p.ok(args...))
	st := p.inspect(name)
	if st.State.Status != "running" || st.State.Pid <= 0 || st.ID != id {
		t.Fatalf("podman inspect after run -d: got id %s status %q pid %d; want %s running", st.ID, st.State.Status, st.State.Pid, id)
	}
	// berth-runtime's own view (podman keeps the runtime's default --root).
	if res := run(t, binary, "state", id); !strings.Contains(res.stdout, `"status": "running"`) && !strings.Contains(res.stdout, `"status":"running"`) {
		t.Errorf("berth-runtime state %s: got %s, want running", id, res)
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
	checkTTY(t, runPTY(t, p.podman, p.args(append([]string{"exec", "--tty", name}, ttyScript...)...)...), `/dev/pts/\d+`)

	p.ok("pause", name)
	if s := p.inspect(name).State.Status; s != "paused" {
		t.Errorf("after podman pause: got status %q, want paused", s)
	}
	p.ok("unpause", name)
	if s := p.inspect(name).State.Status; s != "running" {
		t.Errorf("after podman unpause: got status %q, want running", s)
	}

	// podman stop sends SIGTERM first: init's trap exits 42, where the
	// SIGKILL after the timeout would have made 137.
	p.ok("stop", "--time", "30", name)
	if st := p.inspect(name).State; st.Status != "exited" || st.ExitCode != 42 {
		t.Errorf("after podman stop: got status %q exit %d, want exited 42", st.Status, st.ExitCode)
	}
	p.ok("rm", name)
	if res := run(t, binary, "state", id); res.code == 0 {
		t.Errorf("berth-runtime state %s after podman rm: got %s, want an error", id, res)
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
