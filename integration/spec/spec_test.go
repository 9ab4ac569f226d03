package spec_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/spec"
)

// dockerCapEff is CapEff of a root process with Docker's 14 default
// capabilities (what `docker run busybox grep Cap /proc/self/status` shows).
const dockerCapEff = "00000000a80425fb"

func TestDefaults(t *testing.T) {
	b := newBox(t)
	o := b.observe(nil, nil)
	for k, want := range map[string]string{"CapEff": dockerCapEff, "CapBnd": dockerCapEff, "CapPrm": dockerCapEff,
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "Seccomp": "2", "NoNewPrivs": "0"} {
		if got := o.Status[k]; got != want {
			t.Errorf("%s: got %s, want %s", k, got, want)
		}
	}
	if o.UID != 0 || o.GID != 0 || !slices.Equal(o.Groups, []int{0}) {
		t.Errorf("got uid %d gid %d groups %v, want root with group 0", o.UID, o.GID, o.Groups)
	}
	if len(o.Hostname) != 12 || !strings.HasPrefix(o.Hostname, "spec") {
		t.Errorf("got hostname %q, want the first 12 characters of the ID", o.Hostname)
	}
	if !slices.Contains(o.Env, "HOSTNAME="+o.Hostname) || !slices.ContainsFunc(o.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=/usr/local/sbin:") }) {
		t.Errorf("got env %q, want PATH and HOSTNAME", o.Env)
	}
	if o.Cwd != "/" || o.OOMScoreAdj != "0" {
		t.Errorf("got cwd %q oom_score_adj %q, want / and 0", o.Cwd, o.OOMScoreAdj)
	}
	for point, want := range map[string]string{
		"/sys":             " ro,",
		"/dev/shm":         "size=65536k",
		"/dev/pts":         "ptmxmode=666",
		"/etc/hosts":       "",
		"/etc/resolv.conf": "",
		"/etc/hostname":    "",
		"/dev/mqueue":      "mqueue",
		"/proc/keys":       "",     // masked
		"/proc/interrupts": "",     // masked (GHSA-6fw5-f8r9-fgfm)
		"/proc/sys":        " ro,", // read-only
	} {
		line := o.mount(point)
		if line == "" || !strings.Contains(line, want) {
			t.Errorf("mount %s: got %q, want a mount with %q", point, line, want)
		}
	}
	if !strings.Contains(o.Cgroup, "/berth/spec") {
		t.Errorf("got cgroups %q, want the container's under /berth", o.Cgroup)
	}
}

// TestSeccompDefaultProfile: the default profile stops unshare(CLONE_NEWUSER)
// (no CAP_SYS_ADMIN) while ordinary programs run; unconfined, the same
// unshare passes the filter.
func TestSeccompDefaultProfile(t *testing.T) {
	b := newBox(t)
	if res := b.run(&container.Config{Cmd: []string{"/bin/true"}}, nil); res.code != 0 {
		t.Fatalf("true: exit %d, stderr %s", res.code, res.stderr)
	}
	res := b.run(&container.Config{Cmd: []string{"/bin/unshare", "-U", "/bin/true"}}, nil)
	if res.code == 0 || !strings.Contains(res.stderr, "Operation not permitted") {
		t.Errorf("unshare -U under the default profile: got exit %d, stderr %q, want EPERM", res.code, res.stderr)
	}
	res = b.run(&container.Config{Cmd: []string{"/bin/unshare", "-U", "/bin/true"}},
		&container.HostConfig{SecurityOpt: []string{"seccomp=unconfined"}})
	if max, _ := os.ReadFile("/proc/sys/user/max_user_namespaces"); res.code != 0 && strings.TrimSpace(string(max)) != "0" {
		t.Errorf("unshare -U unconfined: got exit %d, stderr %q, want success", res.code, res.stderr)
	}
	o := b.observe(nil, &container.HostConfig{SecurityOpt: []string{"seccomp=unconfined", "no-new-privileges"}})
	if o.Status["Seccomp"] != "0" || o.Status["NoNewPrivs"] != "1" {
		t.Errorf("unconfined with no-new-privileges: got Seccomp %s NoNewPrivs %s, want 0 and 1", o.Status["Seccomp"], o.Status["NoNewPrivs"])
	}
	// A profile of our own in Docker's format: mkdir fails with EACCES.
	prof := `seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`
	res = b.run(&container.Config{Cmd: []string{"/observer", "mkdir", "/tmp/x"}}, &container.HostConfig{SecurityOpt: []string{prof}, Tmpfs: map[string]string{"/tmp": ""}})
	if res.code == 0 || !strings.Contains(res.stdout, "permission denied") {
		t.Errorf("mkdir under a profile denying it with EACCES: got exit %d, output %q", res.code, res.stdout)
	}
}

func TestUserAndReadonlyRootfs(t *testing.T) {
	b := newBox(t)
	o := b.observe(&container.Config{User: "tester", WorkingDir: "/home/tester"}, &container.HostConfig{GroupAdd: []string{"tty"}, ReadonlyRootfs: true})
	if o.UID != 1000 || o.GID != 1000 || !slices.Equal(o.Groups, []int{5, 1000}) && !slices.Equal(o.Groups, []int{1000, 5}) {
		t.Errorf("got uid %d gid %d groups %v, want tester 1000:1000 in groups 1000 and 5", o.UID, o.GID, o.Groups)
	}
	if o.Status["CapEff"] != "0000000000000000" || o.Status["CapBnd"] != dockerCapEff {
		t.Errorf("non-root: got CapEff %s CapBnd %s, want none effective, Docker's bounding set", o.Status["CapEff"], o.Status["CapBnd"])
	}
	if o.Cwd != "/home/tester" {
		t.Errorf("got cwd %q, want /home/tester (created by the runtime)", o.Cwd)
	}
	if root := o.mount("/"); !strings.Contains(root, " ro,") && !strings.Contains(root, " ro ") {
		t.Errorf("got / mounted %q, want read-only", root)
	}
	hc := &container.HostConfig{ReadonlyRootfs: true, Tmpfs: map[string]string{"/scratch": "size=1m"}}
	if res := b.run(&container.Config{Cmd: []string{"/observer", "write", "/etc/motd"}}, hc); res.code == 0 {
		t.Errorf("writing /etc/motd in a read-only rootfs: got %q, want an error", res.stdout)
	}
	if res := b.run(&container.Config{Cmd: []string{"/observer", "write", "/scratch/f"}}, hc); res.code != 0 {
		t.Errorf("writing the tmpfs /scratch: exit %d, %s%s", res.code, res.stdout, res.stderr)
	}
}

func TestPrivileged(t *testing.T) {
	b := newBox(t)
	o := b.observe(nil, &container.HostConfig{Privileged: true})
	if o.Status["Seccomp"] != "0" {
		t.Errorf("got Seccomp %s, want 0 (no filter)", o.Status["Seccomp"])
	}
	if o.Status["CapEff"] == dockerCapEff || o.Status["CapEff"] != o.Status["CapBnd"] {
		t.Errorf("got CapEff %s CapBnd %s, want every capability of the host", o.Status["CapEff"], o.Status["CapBnd"])
	}
	if line := o.mount("/sys"); strings.Contains(line, " ro,") {
		t.Errorf("got /sys %q, want read-write", line)
	}
	if o.mount("/proc/keys") != "" {
		t.Error("got /proc/keys masked in a privileged container")
	}
}

// TestCgroupLimits reads the limits from the container's own cgroup
// (cgroup v1 here; the runtime binds the container's cgroup directories).
func TestCgroupLimits(t *testing.T) {
	b := newBox(t)
	if b.host.CgroupV2 {
		t.Skip("this test reads cgroup v1 files")
	}
	hc := &container.HostConfig{Resources: container.Resources{Memory: 64 << 20}}
	for file, want := range map[string]string{
		"/sys/fs/cgroup/memory/memory.limit_in_bytes": "67108864",
		"/sys/fs/cgroup/pids/pids.max":                "4096",
	} {
		res := b.run(&container.Config{Cmd: []string{"/observer", "cat", file}}, hc)
		if strings.TrimSpace(res.stdout) != want {
			t.Errorf("%s: got %q (exit %d, %s), want %s", file, res.stdout, res.code, res.stderr, want)
		}
	}
	res := b.run(&container.Config{Cmd: []string{"/observer", "cat", "/sys/fs/cgroup/pids/pids.max"}},
		&container.HostConfig{Resources: container.Resources{PidsLimit: ptr(int64(-1))}}, spec.WithDefaultPidsLimit(100))
	if strings.TrimSpace(res.stdout) != "max" {
		t.Errorf("pids limit -1: got %q, want max", res.stdout)
	}
}

func ptr[T any](v T) *T { return &v }
