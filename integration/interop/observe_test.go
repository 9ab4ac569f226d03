package interop_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// observed is what `/observer info` reports from inside a container.
type observed struct {
	Pid, Ppid, UID, GID, EUID, EGID int
	Groups                          []int
	Cwd, CwdErr                     string
	Hostname, Domainname            string
	Status                          map[string]string
	FDs                             map[string]string
	UIDMap, GIDMap                  string
	Cgroup                          string
	Mountinfo                       string
	Env                             []string
	Rlimits                         map[string][2]uint64
	Umask                           int
	OOMScoreAdj                     string
}

func decodeObserved(t *testing.T, out string) observed {
	t.Helper()
	var o observed
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("decode observer output %q: %v", out, err)
	}
	return o
}

// nsTypes are the namespaces a container's processes are compared by, as
// /proc/PID/ns names them.
var nsTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"}

// specNS maps /proc/PID/ns names to the OCI configuration's namespace types.
var specNS = map[string]specs.LinuxNamespaceType{
	"cgroup": specs.CgroupNamespace, "ipc": specs.IPCNamespace, "mnt": specs.MountNamespace,
	"net": specs.NetworkNamespace, "pid": specs.PIDNamespace, "user": specs.UserNamespace,
	"uts": specs.UTSNamespace,
}

// initScript makes a detached container's init record what it sees, for
// the test to read back with an exec once /tmp/ready exists, then wait to
// be stopped: a SIGTERM ends it with exit code 42, so a test can tell it
// from a SIGKILL.
const initScript = `/observer info >/tmp/info.json; ` + nsScript + ` >/tmp/ns; ` +
	`touch /tmp/ready; trap 'exit 42' TERM; sleep 1000 & wait`

// nsScript prints "type link" for each of nsTypes, e.g. "net net:[4026531840]".
const nsScript = `for n in cgroup ipc mnt net pid user uts; do echo $n $(readlink /proc/self/ns/$n); done`

// parseNS parses nsScript's output.
func parseNS(t *testing.T, out string) map[string]string {
	t.Helper()
	ns := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		typ, link, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(link, typ+":[") {
			t.Fatalf("namespace line %q: want \"type type:[inode]\"", line)
		}
		ns[typ] = link
	}
	return ns
}

// loadSpec reads the OCI configuration an engine wrote for the runtime.
func loadSpec(t *testing.T, path string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the engine's config: %v", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return &s
}

// checkSpec checks that a container's init is what the engine's OCI
// configuration s asked for, as init's child saw itself (o, ns).
func checkSpec(t *testing.T, s *specs.Spec, o observed, ns map[string]string) {
	t.Helper()
	checkNamespaces(t, s, ns)
	checkCaps(t, s.Process.Capabilities, o)
	p := s.Process
	// The observer is init's child: init is pid 1 of a new pid namespace.
	if o.Ppid != 1 {
		t.Errorf("observer's parent pid: got %d, want 1 (init)", o.Ppid)
	}
	if o.UID != int(p.User.UID) || o.GID != int(p.User.GID) {
		t.Errorf("uid:gid: got %d:%d, want %d:%d", o.UID, o.GID, p.User.UID, p.User.GID)
	}
	if o.Cwd != p.Cwd {
		t.Errorf("cwd: got %q, want %q", o.Cwd, p.Cwd)
	}
	// sh adds PWD and SHLVL to what it got from the runtime; the runtime
	// adds HOME, from /etc/passwd, when the configuration has none (as runc).
	home := !slices.ContainsFunc(p.Env, func(e string) bool { return strings.HasPrefix(e, "HOME=") })
	env := slices.DeleteFunc(slices.Clone(o.Env), func(e string) bool {
		return strings.HasPrefix(e, "PWD=") || strings.HasPrefix(e, "SHLVL=") || home && strings.HasPrefix(e, "HOME=")
	})
	if got, want := slices.Sorted(slices.Values(env)), slices.Sorted(slices.Values(p.Env)); !slices.Equal(got, want) {
		t.Errorf("environment: got %q, want %q", got, want)
	}
	if s.Hostname != "" && o.Hostname != s.Hostname {
		t.Errorf("hostname: got %q, want %q", o.Hostname, s.Hostname)
	}
	if want := boolStatus(p.NoNewPrivileges); o.Status["NoNewPrivs"] != want {
		t.Errorf("NoNewPrivs: got %q, want %q", o.Status["NoNewPrivs"], want)
	}
	// Seccomp 2 is filter mode: the engine's profile is loaded.
	if want := map[bool]string{true: "2", false: "0"}[s.Linux.Seccomp != nil]; o.Status["Seccomp"] != want {
		t.Errorf("Seccomp: got %q, want %q", o.Status["Seccomp"], want)
	}
	for _, rl := range p.Rlimits {
		name := strings.TrimPrefix(rl.Type, "RLIMIT_")
		if got, ok := o.Rlimits[name]; ok && got != [2]uint64{rl.Soft, rl.Hard} {
			t.Errorf("%s: got %d, want [%d %d]", rl.Type, got, rl.Soft, rl.Hard)
		}
	}
	checkCgroup(t, s, o)
	checkMounts(t, s, o.Mountinfo)
}

func boolStatus(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// checkNamespaces checks each namespace: one the configuration gives a
// path for is that namespace, one it lists without a path is new, and one
// it does not list is the host's (this test's).
func checkNamespaces(t *testing.T, s *specs.Spec, ns map[string]string) {
	t.Helper()
	for _, typ := range nsTypes {
		host, err := os.Readlink(filepath.Join("/proc/self/ns", typ))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specNS[typ] })
		switch {
		case i < 0:
			if ns[typ] != host {
				t.Errorf("%s namespace: got %s, want the host's %s (not in the config)", typ, ns[typ], host)
			}
		case s.Linux.Namespaces[i].Path != "":
			path := s.Linux.Namespaces[i].Path
			var st syscall.Stat_t
			if err := syscall.Stat(path, &st); err != nil {
				t.Fatalf("stat the engine's %s namespace: %v", typ, err)
			}
			if want := fmt.Sprintf("%s:[%d]", typ, st.Ino); ns[typ] != want {
				t.Errorf("%s namespace: got %s, want %s (%s)", typ, ns[typ], want, path)
			}
		default:
			if ns[typ] == host {
				t.Errorf("%s namespace: got the host's %s, want a new one", typ, host)
			}
		}
	}
}

// checkCaps compares each capability set with /proc/self/status.
func checkCaps(t *testing.T, c *specs.LinuxCapabilities, o observed) {
	t.Helper()
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	for _, set := range []struct {
		field string
		names []string
	}{
		{"CapBnd", c.Bounding}, {"CapEff", c.Effective}, {"CapPrm", c.Permitted},
		{"CapInh", c.Inheritable}, {"CapAmb", c.Ambient},
	} {
		if got, want := o.Status[set.field], capMask(t, set.names); got != want {
			t.Errorf("%s: got %s, want %s (%v)", set.field, got, want, set.names)
		}
	}
}

// capMask turns capability names (CAP_CHOWN, ...) into /proc/PID/status's
// hex form.
func capMask(t *testing.T, names []string) string {
	t.Helper()
	var mask uint64
	for _, name := range names {
		i := slices.IndexFunc(capability.List(), func(c capability.Cap) bool {
			return "CAP_"+strings.ToUpper(c.String()) == name
		})
		if i < 0 {
			t.Fatalf("unknown capability %q", name)
		}
		mask |= 1 << capability.List()[i]
	}
	return fmt.Sprintf("%016x", mask)
}

// checkCgroup checks that every hierarchy places init in the configured
// cgroup. With a cgroup namespace init sees its cgroup as "/" instead.
func checkCgroup(t *testing.T, s *specs.Spec, o observed) {
	t.Helper()
	want := s.Linux.CgroupsPath
	if slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.CgroupNamespace }) {
		want = "/"
	}
	for _, line := range strings.Split(o.Cgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[2] != want {
			t.Errorf("/proc/self/cgroup line %q: want cgroup %s", line, want)
		}
	}
}

// checkMounts checks that each configured mount, masked path and read-only
// path (those this kernel has) is a mount point, the read-only ones read-only.
func checkMounts(t *testing.T, s *specs.Spec, mountinfo string) {
	t.Helper()
	opts := map[string]string{} // mount point → per-mount options
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) > 5 {
			opts[f[4]] = f[5]
		}
	}
	for _, m := range s.Mounts {
		if _, ok := opts[m.Destination]; !ok {
			t.Errorf("mount %s (%s): not a mount point inside", m.Destination, m.Type)
		}
	}
	for _, p := range s.Linux.MaskedPaths {
		if _, err := os.Stat(p); err == nil {
			if _, ok := opts[p]; !ok {
				t.Errorf("masked path %s: not masked (no mount on it)", p)
			}
		}
	}
	for _, p := range s.Linux.ReadonlyPaths {
		if _, err := os.Stat(p); err == nil {
			if o, ok := opts[p]; !ok || !slices.Contains(strings.Split(o, ","), "ro") {
				t.Errorf("read-only path %s: got mount options %q, want ro", p, o)
			}
		}
	}
}
