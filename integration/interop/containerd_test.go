package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// ctrd is a private containerd, in directories of its own, whose
// io.containerd.runc.v2 shims run berth-runtime; the test drives it with ctr.
type ctrd struct {
	t        *testing.T
	ctr      string
	dir      string // root, state, socket, runtime root: all below here
	sock     string
	runcRoot string // berth-runtime's --root is runcRoot/<namespace>
	log      string // containerd's log
}

// startContainerd starts a private containerd and stops it at cleanup,
// after removing its containers, checking that no shim or mount is left.
func startContainerd(t *testing.T) *ctrd {
	t.Helper()
	testutil.RequireRoot(t)
	bin := testutil.RequireBinary(t, "containerd")
	testutil.RequireBinary(t, "containerd-shim-runc-v2")
	// Not t.TempDir: the socket's path must fit in sun_path (108 bytes).
	dir, err := os.MkdirTemp("", "berth-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &ctrd{t: t, ctr: testutil.RequireBinary(t, "ctr"), dir: dir, sock: filepath.Join(dir, "c.sock"),
		runcRoot: filepath.Join(dir, "runtime"), log: filepath.Join(dir, "containerd.log")}
	// No CRI (it would look for CNI), and nothing under /opt.
	config := fmt.Sprintf("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"+
		"[plugins.\"io.containerd.internal.v1.opt\"]\n  path = %q\n", filepath.Join(dir, "opt"))
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"),
		"--address", d.sock, "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("start containerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { d.stop(cmd, exited) })
	if !waitFor(func() bool { return run(t, d.ctr, "--address", d.sock, "version").code == 0 }) {
		t.Fatalf("containerd did not come up\n%s", d.logTail())
	}
	return d
}

// stop removes every container, stops containerd (the process this test
// started, nothing else), and checks that no shim or mount outlived it.
func (d *ctrd) stop(cmd *exec.Cmd, exited chan struct{}) {
	t := d.t
	for _, id := range strings.Fields(d.run("containers", "list", "--quiet").stdout) {
		t.Errorf("container %s left in containerd", id)
		d.remove(id)
	}
	// What berth-runtime delete should have removed, for every container.
	if ents, _ := os.ReadDir(filepath.Join(d.runcRoot, "default")); len(ents) > 0 {
		t.Errorf("berth-runtime state left in %s: %v", filepath.Join(d.runcRoot, "default"), ents)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("containerd ignored SIGTERM for 10s; killing it")
		cmd.Process.Kill()
		<-exited
	}
	if !waitFor(func() bool { return len(d.shims()) == 0 }) {
		for _, pid := range d.shims() {
			t.Errorf("containerd shim %d left", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, m := range mountsUnder(d.dir) {
		t.Errorf("mount %s left", m)
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Errorf("remove containerd's directory: %v", err)
	}
}

// shims returns the pids of the shims serving this containerd.
func (d *ctrd) shims() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.Contains(args[0], "containerd-shim") &&
			bytes.Contains(cmdline, []byte("\x00"+d.sock+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder returns this process's mount points below dir.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if fs := strings.Fields(sc.Text()); len(fs) > 4 && strings.HasPrefix(fs[4], dir+"/") {
			ms = append(ms, fs[4])
		}
	}
	return ms
}

func (d *ctrd) logTail() string {
	data, _ := os.ReadFile(d.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return "containerd log (tail):\n" + strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// args prefixes a ctr command line with this containerd's address.
func (d *ctrd) args(args ...string) []string {
	return append([]string{"--address", d.sock}, args...)
}

func (d *ctrd) run(args ...string) result {
	d.t.Helper()
	return run(d.t, d.ctr, d.args(args...)...)
}

// ok runs ctr and fails the test unless it exits 0.
func (d *ctrd) ok(args ...string) string {
	d.t.Helper()
	res := d.run(args...)
	if res.code != 0 {
		d.t.Fatalf("ctr %s: %s\n%s", strings.Join(args, " "), res, d.logTail())
	}
	return res.stdout
}

// runArgs is ctr run's command line with berth-runtime as the shim's
// runtime: the given flags, the image, a new container id, its command.
func (d *ctrd) runArgs(t *testing.T, flags []string, image string, cmd ...string) (args []string, id string) {
	id = unique("interop")
	t.Cleanup(func() { d.remove(id) })
	args = []string{"run", "--runc-binary", binary, "--runc-root", d.runcRoot, "--fifo-dir", filepath.Join(d.dir, "fifo")}
	args = append(append(args, flags...), image, id)
	return append(args, cmd...), id
}

// remove kills and removes a container and its task, if they exist.
func (d *ctrd) remove(id string) {
	d.run("task", "kill", "--signal", "KILL", id)
	waitFor(func() bool { s := d.taskStatus(id); return s == "" || s == "STOPPED" })
	d.run("task", "delete", "--force", id)
	d.run("containers", "delete", id)
}

// in returns d for use by test t (a subtest).
func (d *ctrd) in(t *testing.T) *ctrd {
	c := *d
	c.t = t
	return &c
}

// task returns a task's pid and status as ctr task list shows them, or
// status "" when there is no such task.
func (d *ctrd) task(id string) (pid int, status string) {
	d.t.Helper()
	for _, line := range strings.Split(d.run("task", "list").stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			pid, _ = strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

func (d *ctrd) taskStatus(id string) string {
	_, status := d.task(id)
	return status
}

// importImage copies a podman image into containerd and returns its name.
func (d *ctrd) importImage(image string) string {
	t := d.t
	archive := filepath.Join(d.dir, "image.tar")
	if res := run(t, "podman", "save", "--quiet", "--format", "oci-archive", "--output", archive, image); res.code != 0 {
		t.Fatalf("podman save %s: %s", image, res)
	}
	repo, tag, _ := strings.Cut(image, ":")
	d.ok("images", "import", "--base-name", repo, archive)
	os.Remove(archive)
	if name := repo + ":" + tag; strings.Contains(d.ok("images", "list", "--quiet"), name) {
		return name
	}
	t.Fatalf("ctr images import: %s is not in %q", image, d.ok("images", "list", "--quiet"))
	return ""
}

// TestContainerd runs containers with ctr run --runc-binary berth-runtime
// on a private containerd, from the podman test image (podman save, then
// ctr images import).
func TestContainerd(t *testing.T) {
	t.Parallel()
	d := startContainerd(t)
	image := d.importImage(podmanImage(t))
	t.Run("run", func(t *testing.T) {
		observe := []string{"/observer", "info"}
		tests := []struct {
			name  string
			flags []string
			cmd   []string
			code  int
			check func(t *testing.T, out string)
		}{
			{"exit code", nil, []string{"sh", "-c", "echo hi; exit 3"}, 3, wantOut("hi\n")},
			{"no seccomp", nil, observe, 0, func(t *testing.T, out string) {
				if o := decodeObserved(t, out); o.Status["Seccomp"] != "0" || o.Pid != 1 {
					t.Errorf("got Seccomp %q pid %d, want 0 (ctr loads no profile by default) and pid 1", o.Status["Seccomp"], o.Pid)
				}
			}},
			// containerd's default profile: needs runtime/seccomp to load it.
			{"seccomp", []string{"--seccomp"}, observe, 0, func(t *testing.T, out string) {
				if o := decodeObserved(t, out); o.Status["Seccomp"] != "2" {
					t.Errorf("Seccomp: got %q, want 2 (containerd's default profile in filter mode)", o.Status["Seccomp"])
				}
			}},
			// ctr mounts no cgroupfs inside: the limit shows by being hit, as an
			// OOM kill (137) in the second 16 MiB allocation.
			{"memory limit", []string{"--memory-limit", "33554432"}, []string{"/observer", "oom"}, 137, wantOut("allocated 16 MiB\n")},
			{"privileged", []string{"--privileged"}, observe, 0, func(t *testing.T, out string) {
				o, want := decodeObserved(t, out), hostStatus(t, "CapBnd")
				if o.Status["CapEff"] != want || o.Status["CapBnd"] != want || o.Status["Seccomp"] != "0" {
					t.Errorf("got CapEff %s CapBnd %s Seccomp %s; want the host's bounding set %s and no seccomp",
						o.Status["CapEff"], o.Status["CapBnd"], o.Status["Seccomp"], want)
				}
			}},
			{"env cwd", []string{"--env", "FOO=bar", "--cwd", "/tmp"}, observe, 0, func(t *testing.T, out string) {
				o := decodeObserved(t, out)
				if o.Cwd != "/tmp" || !strings.Contains(strings.Join(o.Env, "\n")+"\n", "FOO=bar\n") {
					t.Errorf("got cwd %q env %q; want /tmp and FOO=bar", o.Cwd, o.Env)
				}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				d := d.in(t)
				args, _ := d.runArgs(t, append([]string{"--rm"}, tt.flags...), image, tt.cmd...)
				res := run(t, d.ctr, d.args(args...)...)
				if res.code != tt.code {
					t.Fatalf("ctr run %v: %s; want exit %d\n%s", tt.flags, res, tt.code, d.logTail())
				}
				tt.check(t, res.stdout)
			})
		}
	})
	t.Run("tty", func(t *testing.T) {
		t.Parallel()
		d := d.in(t)
		args, _ := d.runArgs(t, []string{"--rm", "--tty"}, image, ttyScript...)
		checkTTY(t, runPTY(t, d.ctr, d.args(args...)...), "/dev/pts/0")
	})
	t.Run("interactive tty", func(t *testing.T) {
		t.Parallel()
		d := d.in(t)
		args, _ := d.runArgs(t, []string{"--rm", "--tty"}, image, "sh")
		checkShell(t, typePTY(t, shellInput, d.ctr, d.args(args...)...))
	})
	t.Run("detached", func(t *testing.T) {
		t.Parallel()
		testContainerdDetached(t, d, image)
	})
}

// testContainerdDetached takes one task through containerd's lifecycle:
// run -d, task exec (plain, -t, -d), task ps, task metrics, task pause and
// resume, task kill, task rm, container rm; and checks that its init is what
// containerd's OCI configuration asked for.
func testContainerdDetached(t *testing.T, d *ctrd, image string) {
	d = d.in(t)
	args, id := d.runArgs(t, []string{"--detach"}, image, "sh", "-c", initScript)
	d.ok(args...)
	pid, status := d.task(id)
	if status != "RUNNING" || pid <= 0 {
		t.Fatalf("ctr task list after run -d: got pid %d status %q, want RUNNING", pid, status)
	}
	runtimeRoot := filepath.Join(d.runcRoot, "default")
	if status, rpid := runtimeState(t, id, "--root", runtimeRoot); status != "running" || rpid != pid {
		t.Errorf("berth-runtime state %s: got %q pid %d, want running pid %d", id, status, rpid, pid)
	}
	execN := 0
	execArgs := func(flags []string, cmd ...string) []string {
		execN++
		return append(append([]string{"task", "exec", "--fifo-dir", filepath.Join(d.dir, "fifo"),
			"--exec-id", fmt.Sprintf("e%d", execN)}, flags...), append([]string{id}, cmd...)...)
	}
	if !waitFor(func() bool { return d.run(execArgs(nil, "test", "-e", "/tmp/ready")...).code == 0 }) {
		t.Fatalf("init did not record itself in /tmp/ready\n%s", d.logTail())
	}
	o := decodeObserved(t, d.ok(execArgs(nil, "cat", "/tmp/info.json")...))
	ns := parseNS(t, d.ok(execArgs(nil, "cat", "/tmp/ns")...))
	bundle := filepath.Join(d.dir, "state", "io.containerd.runtime.v2.task", "default", id)
	spec := loadSpec(t, filepath.Join(bundle, "config.json"))
	checkSpec(t, spec, o, ns)

	if got := parseNS(t, d.ok(execArgs(nil, "sh", "-c", nsScript)...)); !maps.Equal(got, ns) {
		t.Errorf("exec'd process namespaces: got %v, want init's %v", got, ns)
	}
	if res := d.run(execArgs(nil, "sh", "-c", "echo from exec; exit 5")...); res.code != 5 || res.stdout != "from exec\n" {
		t.Errorf("ctr task exec: got %s, want exit 5 and \"from exec\\n\"", res)
	}
	checkTTY(t, runPTY(t, d.ctr, d.args(execArgs([]string{"--tty"}, ttyScript...)...)...), `/dev/pts/\d+`)
	eo := decodeObserved(t, d.ok(execArgs([]string{"--user", "1000", "--cwd", "/tmp"}, "/observer", "info")...))
	if eo.UID != 1000 || eo.GID != 1000 || eo.Cwd != "/tmp" || eo.Status["CapEff"] != "0000000000000000" {
		t.Errorf("ctr task exec --user 1000 --cwd /tmp: got uid %d gid %d cwd %q CapEff %s, want 1000 1000 /tmp and no capabilities",
			eo.UID, eo.GID, eo.Cwd, eo.Status["CapEff"])
	}

	// task ps asks the runtime (berth-runtime ps): init, its background
	// sleep, and a detached exec.
	d.ok(execArgs([]string{"--detach"}, "sleep", "1000")...)
	pids := d.pids(id)
	if len(pids) != 3 || !pids[pid] {
		t.Errorf("ctr task ps: got pids %v, want 3 including init %d", pids, pid)
	}
	checkMetrics(t, d, id, len(pids))

	d.ok("task", "pause", id)
	if s := d.taskStatus(id); s != "PAUSED" {
		t.Errorf("after ctr task pause: got status %q, want PAUSED", s)
	}
	checkFrozen(t, spec.Linux.CgroupsPath, true)
	d.ok("task", "resume", id)
	if s := d.taskStatus(id); s != "RUNNING" {
		t.Errorf("after ctr task resume: got status %q, want RUNNING", s)
	}
	checkFrozen(t, spec.Linux.CgroupsPath, false)

	// SIGTERM, ctr task kill's default, runs init's trap: exit 42.
	d.ok("task", "kill", id)
	if !waitFor(func() bool { return d.taskStatus(id) == "STOPPED" }) {
		t.Fatalf("task %s not stopped 10s after SIGTERM: %s", id, d.taskStatus(id))
	}
	if res := d.run("task", "delete", id); res.code != 0 || !strings.Contains(res.stderr, "exit code 42") {
		t.Errorf("ctr task delete: got %s, want success and exit code 42", res)
	}
	d.ok("containers", "delete", id)
	if status, _ := runtimeState(t, id, "--root", runtimeRoot); status != "" {
		t.Errorf("berth-runtime state of %s after task delete: got %q, want none", id, status)
	}
	for _, p := range []string{filepath.Join(runtimeRoot, id), bundle} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after container delete", p)
		}
	}
	checkCgroupsGone(t, spec.Linux.CgroupsPath)
}

// pids returns the pids ctr task ps lists.
func (d *ctrd) pids(id string) map[int]bool {
	d.t.Helper()
	pids := map[int]bool{}
	for _, line := range strings.Split(d.ok("task", "ps", id), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			pid, err := strconv.Atoi(f[0])
			if err != nil {
				d.t.Fatalf("ctr task ps line %q: no pid", line)
			}
			pids[pid] = true
		}
	}
	return pids
}

// checkMetrics checks that ctr task metrics reports the task's processes
// and some memory use (the shim reads the cgroup itself).
func checkMetrics(t *testing.T, d *ctrd, id string, nproc int) {
	t.Helper()
	var m struct {
		Pids   struct{ Current uint64 }
		Memory struct{ Usage struct{ Usage uint64 } }
	}
	out := d.ok("task", "metrics", "--format", "json", id)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("decode ctr task metrics %q: %v", out, err)
	}
	if m.Pids.Current != uint64(nproc) || m.Memory.Usage.Usage == 0 {
		t.Errorf("ctr task metrics: got pids %d memory %d, want pids %d and memory > 0", m.Pids.Current, m.Memory.Usage.Usage, nproc)
	}
}

// checkFrozen checks the container's freezer from the host.
func checkFrozen(t *testing.T, cgroupsPath string, want bool) {
	t.Helper()
	file, frozen := filepath.Join("/sys/fs/cgroup/freezer", cgroupsPath, "freezer.state"), "FROZEN"
	if _, err := os.Stat("/sys/fs/cgroup/freezer"); err != nil {
		file, frozen = filepath.Join("/sys/fs/cgroup", cgroupsPath, "cgroup.freeze"), "1"
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read freezer state: %v", err)
	}
	if got := strings.TrimSpace(string(data)) == frozen; got != want {
		t.Errorf("%s: got %q, want frozen %v", file, strings.TrimSpace(string(data)), want)
	}
}
