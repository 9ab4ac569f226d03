package runtime_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
)

func TestProcessUser(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	for _, tc := range []struct {
		name       string
		user       specs.User
		cwd        string
		uid, gid   int
		groups     []int
		umask      int
		wantCwd    string
		cwdCreated bool
	}{
		{name: "root by default", uid: 0, gid: 0, umask: 0o022, cwd: "/", wantCwd: "/"},
		{name: "uid gid and additional gids", user: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000, 5}},
			uid: 1000, gid: 1000, groups: []int{5, 2000}, umask: 0o022, cwd: "/tmp", wantCwd: "/tmp"},
		{name: "umask", user: specs.User{UID: 1000, GID: 1000, Umask: u32(0o077)}, uid: 1000, gid: 1000, umask: 0o077, cwd: "/", wantCwd: "/"},
		{name: "missing cwd is created", uid: 0, gid: 0, umask: 0o022, cwd: "/work/deep/dir", wantCwd: "/work/deep/dir", cwdCreated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.User = tc.user
			b.Spec.Process.Cwd = tc.cwd
			o := r.observe(b)
			if o.UID != tc.uid || o.EUID != tc.uid || o.GID != tc.gid || o.EGID != tc.gid {
				t.Errorf("got uid %d euid %d gid %d egid %d, want uid %d gid %d", o.UID, o.EUID, o.GID, o.EGID, tc.uid, tc.gid)
			}
			groups := slices.Sorted(slices.Values(o.Groups))
			if len(groups) != len(tc.groups) || !slices.Equal(groups, tc.groups) && len(tc.groups) > 0 {
				t.Errorf("got groups %v, want %v", o.Groups, tc.groups)
			}
			if o.Umask != tc.umask {
				t.Errorf("got umask %#o, want %#o", o.Umask, tc.umask)
			}
			if o.Cwd != tc.wantCwd || o.CwdErr != "" {
				t.Errorf("got cwd %q (error %q), want %q", o.Cwd, o.CwdErr, tc.wantCwd)
			}
			if _, err := os.Stat(b.Rootfs + tc.wantCwd); tc.cwdCreated && err != nil {
				t.Errorf("cwd %s was not created in the rootfs: %v", tc.wantCwd, err)
			}
		})
	}
}

func TestProcessEnv(t *testing.T) {
	base := []string{"PATH=/bin", "FOO=bar baz", "EMPTY=", "MULTI=a=b"}
	for _, tc := range []struct {
		name string
		env  []string
		uid  uint32
		want []string
	}{
		{"root gets HOME from passwd", base, 0, append(slices.Clone(base), "HOME=/root")},
		{"user gets its HOME", base, 1000, append(slices.Clone(base), "HOME=/home/tester")},
		{"unknown user gets HOME=/", base, 4242, append(slices.Clone(base), "HOME=/")},
		{"HOME in the config is kept", []string{"HOME=/elsewhere", "PATH=/bin"}, 0, []string{"HOME=/elsewhere", "PATH=/bin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.Env = tc.env
			b.Spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			o := r.observe(b)
			if !slices.Equal(o.Env, tc.want) {
				t.Errorf("got environment %q, want exactly %q", o.Env, tc.want)
			}
		})
	}
}

func TestProcessArgs(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	want := []string{"a b", "", "--flag=x", "ünïcode", "$HOME", "'quoted'"}
	res := r.runArgs(b, append([]string{"/observer", "args"}, want...)...)
	var got []string
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("decode observer args %q (stderr %q): %v", res.stdout, res.stderr, err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got args %q, want %q", got, want)
	}
	// args[0] is looked up in the container's PATH.
	b.Spec.Process.Env = []string{"PATH=/nowhere:/bin"}
	if res := r.runArgs(b, "echo", "found"); res.code != 0 || res.stdout != "found\n" {
		t.Errorf("echo via PATH: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

func TestRlimits(t *testing.T) {
	var host unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &host); err != nil {
		t.Fatal(err)
	}
	r := newRT(t)
	b := testbundle.New(t)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 256, Hard: 512},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
	}
	// Read by the shell, not the observer: Go raises its own soft NOFILE
	// limit at start-up.
	limits := r.sh(b, "cat /proc/self/limits")
	for name, want := range map[string][]string{"Max open files": {"256", "512"}, "Max core file size": {"0", "4096"}} {
		var got []string
		for _, line := range strings.Split(limits, "\n") {
			if rest, ok := strings.CutPrefix(line, name); ok {
				got = strings.Fields(rest)[:2]
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s inside: got soft/hard %v, want %v", name, got, want)
		}
	}
	// The limit is really enforced: the 257th open file fails.
	res := r.runArgs(b, "/bin/sh", "-c", "exec 255</dev/null && echo fd255 ok; exec 256</dev/null && echo fd256 ok")
	if !strings.Contains(res.stdout, "fd255 ok") || strings.Contains(res.stdout, "fd256 ok") {
		t.Errorf("with NOFILE 256: got %q (stderr %q), want fd 255 to open and fd 256 to fail", res.stdout, res.stderr)
	}

	t.Run("hard limit above the host's", func(t *testing.T) {
		if host.Max == unix.RLIM_INFINITY {
			t.Skip("the host's NOFILE hard limit is unlimited")
		}
		r := newRT(t)
		b := testbundle.New(t, "/observer", "info")
		b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: host.Max + 1}}
		b.Save(t)
		id := r.id()
		res := r.run("create", "--bundle", b.Dir, id)
		if res.code == 0 {
			t.Fatalf("create with NOFILE hard %d above the host's %d succeeded", host.Max+1, host.Max)
		}
		if !strings.Contains(res.stderr, "RLIMIT_NOFILE") || !strings.Contains(res.stderr, strconv.FormatUint(host.Max+1, 10)) {
			t.Errorf("got error %q, want it to name RLIMIT_NOFILE and %d", res.stderr, host.Max+1)
		}
		requireNothingLeft(t, r, id)
	})
}

// capNum are the capability numbers this test uses (linux/capability.h).
var capNum = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_AUDIT_WRITE": 29,
}

func capMask(names ...string) string {
	var m uint64
	for _, n := range names {
		m |= 1 << capNum[n]
	}
	return fmt.Sprintf("%016x", m)
}

// TestCapabilities observes the five sets after execve, which recomputes
// them (capabilities(7), "Transformation of capabilities during
// execve()"): for root running a file without file capabilities,
// permitted and effective become bounding | inheritable | ambient, cut
// down to the permitted set set by the runtime under no_new_privs; for
// another user they become the ambient set. Inheritable, ambient and
// bounding pass through, so all five show what the runtime set.
func TestCapabilities(t *testing.T) {
	rootCaps := &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"},
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
		Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
		Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		Ambient:     []string{"CAP_NET_BIND_SERVICE"},
	}
	for _, tc := range []struct {
		name string
		uid  uint32
		nnp  bool
		caps *specs.LinuxCapabilities
		want map[string]string // /proc/self/status field → mask
	}{{
		name: "root with no_new_privs",
		nnp:  true,
		caps: rootCaps,
		want: map[string]string{
			"CapBnd": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
			"CapPrm": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapEff": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapInh": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapAmb": capMask("CAP_NET_BIND_SERVICE"),
		},
	}, {
		name: "root",
		caps: rootCaps,
		want: map[string]string{
			"CapBnd": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
			"CapPrm": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
			"CapEff": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
			"CapInh": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapAmb": capMask("CAP_NET_BIND_SERVICE"),
		},
	}, {
		name: "non-root keeps only ambient",
		uid:  1000,
		nnp:  true,
		caps: &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Effective:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Ambient:     []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		},
		want: map[string]string{
			"CapBnd": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
			"CapPrm": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapEff": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
			"CapInh": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
			"CapAmb": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
		},
	}, {
		name: "root with no capabilities has none",
		nnp:  true,
		caps: &specs.LinuxCapabilities{},
		want: map[string]string{"CapBnd": capMask(), "CapPrm": capMask(), "CapEff": capMask(), "CapInh": capMask(), "CapAmb": capMask()},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			b.Spec.Process.NoNewPrivileges = tc.nnp
			b.Spec.Process.Capabilities = tc.caps
			o := r.observe(b)
			for field, want := range tc.want {
				if got := o.Status[field]; got != want {
					t.Errorf("%s: got %s, want %s", field, got, want)
				}
			}
		})
	}
	// The capabilities are real: without CAP_CHOWN root cannot chown.
	t.Run("enforced", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t)
		for _, tc := range []struct {
			caps []string
			ok   bool
		}{{[]string{"CAP_CHOWN"}, true}, {nil, false}} {
			b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: tc.caps, Permitted: tc.caps, Effective: tc.caps}
			res := r.runArgs(b, "/bin/sh", "-c", "touch /tmp/f && chown 1000 /tmp/f")
			if (res.code == 0) != tc.ok {
				t.Errorf("chown with capabilities %v: exit %d (stderr %q), want success %v", tc.caps, res.code, res.stderr, tc.ok)
			}
		}
	})
}

func TestUnknownCapability(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t)
	set := []string{"CAP_KILL", "CAP_FUTURE_THING"}
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: set, Permitted: set, Effective: set}
	b.Spec.Process.Args = []string{"/observer", "info"}
	b.Save(t)
	res := r.run("run", "--bundle", b.Dir, r.id())
	if res.code != 0 {
		t.Fatalf("run with an unknown capability: exit %d, stderr %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "warning") || !strings.Contains(res.stderr, "CAP_FUTURE_THING") {
		t.Errorf("got stderr %q, want a warning naming CAP_FUTURE_THING", res.stderr)
	}
	var o observed
	if err := json.Unmarshal([]byte(res.stdout), &o); err != nil {
		t.Fatalf("decode observer output %q: %v", res.stdout, err)
	}
	if got, want := o.Status["CapBnd"], capMask("CAP_KILL"); got != want {
		t.Errorf("CapBnd: got %s, want %s (the known capability only)", got, want)
	}
}

func TestNoNewPrivileges(t *testing.T) {
	for _, tc := range []struct {
		nnp  bool
		want string
	}{{true, "1"}, {false, "0"}} {
		t.Run(strconv.FormatBool(tc.nnp), func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.NoNewPrivileges = tc.nnp
			if got := r.observe(b).Status["NoNewPrivs"]; got != tc.want {
				t.Errorf("NoNewPrivs: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOOMScoreAdj(t *testing.T) {
	own, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	// Raising needs no privilege; lowering needs CAP_SYS_RESOURCE, which
	// this host's root lacks.
	for _, tc := range []struct {
		name string
		adj  *int
		want string
	}{{"500", intp(500), "500"}, {"1000", intp(1000), "1000"}, {"unset inherits", nil, strings.TrimSpace(string(own))}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.OOMScoreAdj = tc.adj
			if got := r.observe(b).OOMScoreAdj; got != tc.want {
				t.Errorf("oom_score_adj: got %q, want %q", got, tc.want)
			}
		})
	}
}

func intp(v int) *int { return &v }

func TestSysctl(t *testing.T) {
	keys := map[string]string{
		"net.ipv4.ip_forward":          "1",
		"net.ipv4.conf.all.forwarding": "1",
		"kernel.shmmax":                "123456789",
		"kernel.msgmax":                "4096",
	}
	before := map[string]string{}
	for k := range keys {
		before[k] = hostSysctl(t, k)
	}
	r := newRT(t)
	b := testbundle.New(t)
	b.Spec.Linux.Sysctl = keys
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	o := r.observe(b, names...)
	for k, want := range keys {
		if got := o.Sysctls[k]; got != want {
			t.Errorf("%s inside: got %q, want %q", k, got, want)
		}
		if got := hostSysctl(t, k); got != before[k] {
			t.Errorf("%s on the host changed from %q to %q", k, before[k], got)
		}
	}
	// /proc/sys is read-only once the sysctls are written.
	if m, ok := mountAt(t, o.Mountinfo, "/proc/sys"); !ok || !hasOpts(m.opts, "ro") {
		t.Errorf("/proc/sys: got %+v, want it read-only", m)
	}
}

func hostSysctl(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// errnoRule makes the calls fail with errno.
func errnoRule(errno uint, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: specs.ActErrno, ErrnoRet: &errno}
}

func TestSeccomp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nnp   bool
		rules []specs.LinuxSyscall
		args  []string
		check func(t *testing.T, res result)
	}{{
		name: "mkdir gets EPERM", nnp: true,
		rules: []specs.LinuxSyscall{errnoRule(uint(unix.EPERM), "mkdir", "mkdirat")},
		args:  []string{"/bin/sh", "-c", "/observer mkdir /tmp/blocked; /observer write /tmp/allowed; /observer cat /proc/self/status | grep ^Seccomp:"},
		check: func(t *testing.T, res result) {
			want := "error: mkdir /tmp/blocked: operation not permitted\nok\nSeccomp:\t2\n"
			if res.stdout != want {
				t.Errorf("got %q, want %q", res.stdout, want)
			}
		},
	}, {
		name: "filter loads without no_new_privs", nnp: false,
		rules: []specs.LinuxSyscall{errnoRule(uint(unix.EACCES), "mkdir", "mkdirat")},
		args:  []string{"/observer", "mkdir", "/tmp/blocked"},
		check: func(t *testing.T, res result) {
			if want := "error: mkdir /tmp/blocked: permission denied\n"; res.stdout != want {
				t.Errorf("got %q, want %q", res.stdout, want)
			}
		},
	}, {
		// The runtime checks the cwd before it loads the filter, so a
		// profile that blocks getcwd still starts.
		name: "getcwd blocked", nnp: true,
		rules: []specs.LinuxSyscall{errnoRule(uint(unix.EPERM), "getcwd")},
		args:  []string{"/observer", "info"},
		check: func(t *testing.T, res result) {
			var o observed
			if err := json.Unmarshal([]byte(res.stdout), &o); err != nil {
				t.Fatalf("decode observer output %q (stderr %q): %v", res.stdout, res.stderr, err)
			}
			if !strings.Contains(o.CwdErr, "operation not permitted") {
				t.Errorf("getcwd inside: got cwd %q error %q, want EPERM", o.Cwd, o.CwdErr)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t)
			b.Spec.Process.NoNewPrivileges = tc.nnp
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: tc.rules}
			tc.check(t, r.runArgs(b, tc.args...))
		})
	}
}

func TestSecurityLabels(t *testing.T) {
	if _, err := os.Stat("/sys/module/apparmor/parameters/enabled"); err == nil {
		t.Skip("this host has AppArmor: the test checks the refusal on hosts without it")
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Skip("this host has SELinux: the test checks the refusal on hosts without it")
	}
	for _, tc := range []struct {
		name string
		set  func(s *specs.Spec)
		want string
	}{
		{"apparmor profile", func(s *specs.Spec) { s.Process.ApparmorProfile = "berth-default" }, "AppArmor"},
		{"selinux process label", func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" }, "SELinux"},
		{"selinux mount label", func(s *specs.Spec) { s.Linux.MountLabel = "system_u:object_r:container_file_t:s0" }, "SELinux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "/observer", "info")
			tc.set(b.Spec)
			b.Save(t)
			id := r.id()
			res := r.run("create", "--bundle", b.Dir, id)
			if res.code == 0 {
				t.Fatalf("create with a %s on a host without it succeeded", tc.name)
			}
			if !strings.Contains(res.stderr, tc.want) || !strings.Contains(res.stderr, "not enabled") {
				t.Errorf("got error %q, want it to say %s is not enabled", res.stderr, tc.want)
			}
			requireNothingLeft(t, r, id)
		})
	}
}
