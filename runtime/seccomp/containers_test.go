package seccomp

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// containersProfiles are the seccomp profile podman uses, from
// containers-common: a copy of Debian's golang-github-containers-common
// 0.50.1 /usr/share/containers/seccomp.json, so the tests never skip, and
// the host's own when it has one.
//
// Fed as is, without the includes and excludes an engine resolves first
// (by capability, by arch), the profile holds rules that contradict each
// other: setns is allowed in the big allowlist and denied further down for
// want of CAP_SYS_ADMIN, socket is both conditionally denied and allowed.
// libseccomp's precedence settles each in favour of the first
// unconditional rule.
var containersProfiles = []string{"testdata/containers-seccomp.json", "/usr/share/containers/seccomp.json"}

// readProfile decodes the LinuxSeccomp at path, skipping the test when the
// file is missing outside testdata.
func readProfile(t testing.TB, path string) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && path[0] == '/' {
		t.Skipf("%s: not installed", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var cfg specs.LinuxSeccomp
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return &cfg
}

func TestContainersProfile(t *testing.T) {
	for _, path := range containersProfiles {
		t.Run(path, func(t *testing.T) {
			cfg := readProfile(t, path)
			prog := mustCompile(t, cfg, "amd64")
			setns := seccompData{nr: nr(t, specs.ArchX86_64, "setns"), arch: x86_64}
			if got := mustRun(t, prog, setns); got != unix.SECCOMP_RET_ALLOW {
				t.Errorf("setns: got %s, want SCMP_ACT_ALLOW", retString(got))
			}
			args := [][6]uint64{{}, {8}, {0x20008}, {unix.AF_NETLINK, 0, unix.NETLINK_AUDIT}, {unix.AF_INET}}
			for n := uint32(0); n < 600; n++ {
				for _, a := range args {
					d := seccompData{nr: n, arch: x86_64, args: a}
					if got, want := mustRun(t, prog, d), reference(cfg, "amd64", d); got != want {
						t.Fatalf("nr %d args %#x: got %s, want %s", n, a, retString(got), retString(want))
					}
				}
			}
			t.Logf("%d instructions", len(prog))
		})
	}
}

// TestContainersProfileCopy pins what the copy in testdata decides where
// its rules disagree.
func TestContainersProfileCopy(t *testing.T) {
	cfg := readProfile(t, containersProfiles[0])
	prog := mustCompile(t, cfg, "amd64")
	enosys := retErr | uint32(unix.ENOSYS) // the profile's default
	tests := []struct {
		name string
		args [6]uint64
		want uint32
	}{
		{"setns", [6]uint64{}, unix.SECCOMP_RET_ALLOW},                                        // allowlist before the CAP_SYS_ADMIN denial
		{"bpf", [6]uint64{}, unix.SECCOMP_RET_ALLOW},                                          // CAP_SYS_ADMIN's allow before its denial
		{"open_by_handle_at", [6]uint64{}, unix.SECCOMP_RET_ALLOW},                            // likewise, CAP_DAC_READ_SEARCH
		{"socket", [6]uint64{unix.AF_NETLINK, 0, unix.NETLINK_AUDIT}, unix.SECCOMP_RET_ALLOW}, // the unconditional allow beats the conditional EINVAL
		{"io_pgetevents", [6]uint64{}, retErr | uint32(unix.EPERM)},                           // the denylist
		{"personality", [6]uint64{8}, unix.SECCOMP_RET_ALLOW},                                 // PER_LINUX32
		{"personality", [6]uint64{0x0400000}, enosys},                                         // ADDR_COMPAT_LAYOUT
		{"clone3", [6]uint64{}, unix.SECCOMP_RET_ALLOW},                                       // in the allowlist
		{"futex_waitv", [6]uint64{}, enosys},                                                  // newer than the profile
	}
	for _, tt := range tests {
		d := seccompData{nr: nr(t, specs.ArchX86_64, tt.name), arch: x86_64, args: tt.args}
		if got := mustRun(t, prog, d); got != tt.want {
			t.Errorf("%s args %#x: got %s, want %s", tt.name, tt.args[:3], retString(got), retString(tt.want))
		}
	}
	i386 := seccompData{nr: nr(t, specs.ArchX86, "getpid"), arch: unix.AUDIT_ARCH_I386}
	if got := mustRun(t, prog, i386); got != badArchRet {
		t.Errorf("i386 getpid: got %s, want %s: the profile lists no architectures", retString(got), retString(badArchRet))
	}
}

// containersScenario loads the profile at path in a child: the kernel must
// take it, setns must reach the kernel (which refuses fd -1 with EBADF),
// and the Go runtime must keep working under it.
func containersScenario(report func(string, any), path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg specs.LinuxSeccomp
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	if _, err := Load(&cfg); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_SETNS, ^uintptr(0), unix.CLONE_NEWNET, 0)
	report("setns", errnoName(0, e))
	_, _, e = unix.Syscall6(unix.SYS_IO_PGETEVENTS, 0, 0, 0, 0, 0, 0)
	report("io_pgetevents", errnoName(0, e))
	done := make(chan bool)
	go func() { done <- true }()
	report("goroutine", <-done)
	return nil
}

func TestLoadContainersProfile(t *testing.T) {
	for _, path := range containersProfiles {
		t.Run(path, func(t *testing.T) {
			readProfile(t, path) // skips when missing
			got, err := runScenario(t, "containers:"+path)
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			want := map[string]string{"setns": "EBADF", "io_pgetevents": "EPERM", "goroutine": "true"}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s: got %q, want %q", k, got[k], w)
				}
			}
		})
	}
}
