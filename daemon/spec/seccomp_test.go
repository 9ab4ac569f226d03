package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// outcome says how an expanded profile treats a syscall: "allow", "errno
// N" (an unconditional rule), "args" (only rules with argument
// conditions) or "default".
func outcome(sc *specs.LinuxSeccomp, name string) string {
	conditional := false
	for _, r := range sc.Syscalls {
		if !slices.Contains(r.Names, name) {
			continue
		}
		if len(r.Args) > 0 {
			conditional = true
			continue
		}
		switch r.Action {
		case specs.ActAllow:
			return "allow"
		case specs.ActErrno:
			return fmt.Sprintf("errno %d", *r.ErrnoRet)
		}
		return string(r.Action)
	}
	if conditional {
		return "args"
	}
	return "default"
}

func TestDefaultProfileRules(t *testing.T) {
	amd64 := testHost()
	withCaps := func(add ...string) []string { return append(DefaultCapabilities(), add...) }
	tests := []struct {
		name    string
		caps    []string
		host    Host
		syscall string
		want    string
	}{
		{"read", DefaultCapabilities(), amd64, "read", "allow"},
		{"mount needs CAP_SYS_ADMIN", DefaultCapabilities(), amd64, "mount", "default"},
		{"mount with CAP_SYS_ADMIN", withCaps("CAP_SYS_ADMIN"), amd64, "mount", "allow"},
		{"unshare needs CAP_SYS_ADMIN", DefaultCapabilities(), amd64, "unshare", "default"},
		{"unshare with CAP_SYS_ADMIN", withCaps("CAP_SYS_ADMIN"), amd64, "unshare", "allow"},
		{"setns with CAP_SYS_ADMIN", withCaps("CAP_SYS_ADMIN"), amd64, "setns", "allow"},
		{"clone filters namespace flags", DefaultCapabilities(), amd64, "clone", "args"},
		{"clone with CAP_SYS_ADMIN", withCaps("CAP_SYS_ADMIN"), amd64, "clone", "allow"},
		{"clone3 looks absent", DefaultCapabilities(), amd64, "clone3", "errno 38"},
		{"clone3 with CAP_SYS_ADMIN", withCaps("CAP_SYS_ADMIN"), amd64, "clone3", "allow"},
		{"ptrace on a new kernel", DefaultCapabilities(), amd64, "ptrace", "allow"},
		{"ptrace before 4.8", DefaultCapabilities(), Host{Arch: "amd64", Kernel: KernelVersion{4, 4}}, "ptrace", "default"},
		{"ptrace before 4.8 with CAP_SYS_PTRACE", withCaps("CAP_SYS_PTRACE"), Host{Arch: "amd64", Kernel: KernelVersion{4, 4}}, "ptrace", "allow"},
		{"kcmp needs CAP_SYS_PTRACE", DefaultCapabilities(), amd64, "kcmp", "default"},
		{"kcmp with CAP_SYS_PTRACE", withCaps("CAP_SYS_PTRACE"), amd64, "kcmp", "allow"},
		{"personality", DefaultCapabilities(), amd64, "personality", "args"},
		{"socket by family", DefaultCapabilities(), amd64, "socket", "args"},
		{"chroot with the default CAP_SYS_CHROOT", DefaultCapabilities(), amd64, "chroot", "allow"},
		{"chroot without it", nil, amd64, "chroot", "default"},
		{"reboot", DefaultCapabilities(), amd64, "reboot", "default"},
		{"reboot with CAP_SYS_BOOT", withCaps("CAP_SYS_BOOT"), amd64, "reboot", "allow"},
		{"keyctl", withCaps("CAP_SYS_ADMIN"), amd64, "keyctl", "default"},
		{"io_uring_setup", DefaultCapabilities(), amd64, "io_uring_setup", "default"},
		{"arch_prctl on amd64", DefaultCapabilities(), amd64, "arch_prctl", "allow"},
		{"arch_prctl on arm64", DefaultCapabilities(), Host{Arch: "arm64"}, "arch_prctl", "default"},
		{"set_tls on arm64", DefaultCapabilities(), Host{Arch: "arm64"}, "set_tls", "allow"},
		{"clone on s390x", DefaultCapabilities(), Host{Arch: "s390x"}, "clone", "args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := DefaultProfile().Spec(tt.caps, tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if got := outcome(sc, tt.syscall); got != tt.want {
				t.Errorf("%s: got %s, want %s", tt.syscall, got, tt.want)
			}
		})
	}
}

// TestDefaultProfileDetails checks the argument rules themselves.
func TestDefaultProfileDetails(t *testing.T) {
	sc, err := DefaultProfile().Spec(DefaultCapabilities(), testHost())
	if err != nil {
		t.Fatal(err)
	}
	if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != 1 {
		t.Errorf("got default %s errno %v, want SCMP_ACT_ERRNO with EPERM", sc.DefaultAction, sc.DefaultErrnoRet)
	}
	if want := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}; !slices.Equal(sc.Architectures, want) {
		t.Errorf("got architectures %v, want %v", sc.Architectures, want)
	}
	var clone, sockets []specs.LinuxSeccompArg
	for _, r := range sc.Syscalls {
		switch {
		case slices.Equal(r.Names, []string{"clone"}):
			clone = append(clone, r.Args...)
		case slices.Equal(r.Names, []string{"socket"}):
			sockets = append(sockets, r.Args...)
		}
	}
	if want := []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, Op: specs.OpMaskedEqual}}; !slices.Equal(clone, want) {
		t.Errorf("got clone rules %+v, want flags & 0x7e020000 == 0", clone)
	}
	allowed := func(family uint64) bool {
		for _, a := range sockets {
			if (a.Op == specs.OpLessThan && family < a.Value) || (a.Op == specs.OpEqualTo && family == a.Value) {
				return true
			}
		}
		return false
	}
	for fam, want := range map[uint64]bool{1: true, 2: true, 10: true, 16: true, 17: true, 38: false, 40: false, 12: false, 44: true} {
		if allowed(fam) != want {
			t.Errorf("socket family %d: got allowed %v, want %v", fam, allowed(fam), want)
		}
	}
	// Unknown architecture: no archMap entry, the runtime serves the native
	// ABI only.
	sc, err = DefaultProfile().Spec(nil, Host{Arch: "sparc64"})
	if err != nil || len(sc.Architectures) != 0 {
		t.Errorf("got %v, %v, want no architectures", sc.Architectures, err)
	}
}

func TestParseProfile(t *testing.T) {
	ok := `{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],` +
		`"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"name":"exit","action":"SCMP_ACT_ALLOW","comment":"old form"},` +
		`{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"7.0"}},{"names":["kill"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.10"}}]}`
	p, err := ParseProfile([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := p.Spec(nil, testHost())
	if err != nil {
		t.Fatal(err)
	}
	if want := []specs.Arch{specs.ArchX86_64, specs.ArchX86}; !slices.Equal(sc.Architectures, want) {
		t.Errorf("got architectures %v, want %v", sc.Architectures, want)
	}
	var names []string
	for _, r := range sc.Syscalls {
		names = append(names, strings.Join(r.Names, ","))
	}
	if want := []string{"read,write", "exit"}; !slices.Equal(names, want) {
		t.Errorf("got rules %v, want %v (ptrace needs 7.0, kill is excluded from 5.10 on)", names, want)
	}

	bad := []struct{ json, err string }{
		{`{`, "decoding seccomp profile failed"},
		{`{"defaultAction":"SCMP_ACT_ALLOW"} {}`, "data after the profile"},
		{`{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}`, `unknown defaultAction "SCMP_ACT_NOPE"`},
		{`{"defaultAction":"SCMP_ACT_NOTIFY"}`, "cannot be the default action"},
		{`{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1}`, "takes no errno"},
		{`{"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`, "defaultAction is missing"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}`, "both 'architectures' and 'archMap'"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"]}`, `unknown architecture "SCMP_ARCH_VAX"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_BOGUS"]}`, "unknown flag"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}`, "both 'name' and 'names'"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}`, "names no syscall"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["Read;"],"action":"SCMP_ACT_ALLOW"}]}`, "invalid syscall name"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"ALLOW"}]}`, `unknown action "ALLOW"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_KILL","errnoRet":1}]}`, "takes no errno"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "index 6 is out of range"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}`, `unknown operator "EQ"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}`, "invalid kernel version"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"0.0"}}]}`, "invalid kernel version"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":4.8}}]}`, "invalid kernel version"},
	}
	for _, tt := range bad {
		_, err := ParseProfile([]byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ParseProfile(%s): got %v, want invalid argument containing %q", tt.json, err, tt.err)
		}
	}

	// A profile with neither default action nor rules means no filter.
	p, err = ParseProfile([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if sc, err := p.Spec(nil, testHost()); sc != nil || err != nil {
		t.Errorf("got %v, %v, want no filter", sc, err)
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string]KernelVersion{
		"6.18.44-fc-v657": {6, 18}, "3.12-1-amd64": {3, 12}, "5.4": {5, 4}, "4.19.0+": {4, 19},
	} {
		got, err := ParseKernelVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseKernelVersion(%q): got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "6", "x.1", "6.x", "99999999.1"} {
		if _, err := ParseKernelVersion(in); err == nil {
			t.Errorf("ParseKernelVersion(%q): got no error", in)
		}
	}
}
