package seccomp

import (
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// loadProfile reads a LinuxSeccomp from testdata. allowlist.json is shaped
// like Docker's default profile: ~400 allowed names (some only on i386, two
// unknown anywhere), a few argument rules, x86, x86_64 and x32.
func loadProfile(t testing.TB, name string) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var cfg specs.LinuxSeccomp
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return &cfg
}

// TestAllowlistProfile runs the compiled profile on every syscall number of
// every ABI (and some beyond) and compares with the reference evaluator.
func TestAllowlistProfile(t *testing.T) {
	cfg := loadProfile(t, "allowlist.json")
	prog := mustCompile(t, cfg, "amd64")
	if len(prog) > 1000 {
		t.Errorf("got %d instructions, want at most 1000", len(prog))
	}
	inputs := []struct {
		arch  uint32
		first uint32
	}{
		{unix.AUDIT_ARCH_X86_64, 0},
		{unix.AUDIT_ARCH_X86_64, x32SyscallBit},
		{unix.AUDIT_ARCH_I386, 0},
	}
	args := [][6]uint64{{}, {8}, {0x20008}, {0x1_00000000}, {0x10000}, {40}, {41}, {15, 1}, {16, 1}}
	maxSteps := 0
	for _, in := range inputs {
		for n := in.first; n < in.first+600; n++ {
			for _, a := range args {
				d := seccompData{nr: n, arch: in.arch, args: a}
				steps := 0
				got, err := run(prog, d, &steps)
				if err != nil {
					t.Fatal(err)
				}
				maxSteps = max(maxSteps, steps)
				if want := reference(cfg, "amd64", d); got != want {
					t.Fatalf("nr %#x arch %#x args %#x: got %s, want %s", n, in.arch, a, retString(got), retString(want))
				}
			}
		}
	}
	t.Logf("%d instructions, at most %d run per syscall", len(prog), maxSteps)
	spot := []struct {
		abi  specs.Arch
		name string
		args [6]uint64
		want uint32
	}{
		{specs.ArchX86_64, "read", [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{specs.ArchX86_64, "mount", [6]uint64{}, retErr | 1},
		{specs.ArchX86_64, "clone3", [6]uint64{}, retErr | 38},
		{specs.ArchX86_64, "clone", [6]uint64{unix.CLONE_NEWNS}, retErr | 1},
		{specs.ArchX86_64, "clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD}, unix.SECCOMP_RET_ALLOW},
		{specs.ArchX86_64, "personality", [6]uint64{0x20008}, unix.SECCOMP_RET_ALLOW},
		{specs.ArchX86_64, "personality", [6]uint64{0x1_00020008}, retErr | 1},
		{specs.ArchX86, "personality", [6]uint64{0x1_00020008}, unix.SECCOMP_RET_ALLOW}, // i386 sees the low half
		{specs.ArchX86, "_llseek", [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{specs.ArchX32, "rt_sigaction", [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{specs.ArchX86_64, "socket", [6]uint64{unix.AF_VSOCK}, retErr | 1},
		{specs.ArchX86_64, "socket", [6]uint64{unix.AF_INET}, unix.SECCOMP_RET_ALLOW},
	}
	for _, s := range spot {
		a, _ := findABI(s.abi)
		d := seccompData{nr: nr(t, s.abi, s.name), arch: a.audit, args: s.args}
		if got := mustRun(t, prog, d); got != s.want {
			t.Errorf("%s on %s args %#x: got %s, want %s", s.name, s.abi, s.args[0], retString(got), retString(s.want))
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, bc := range []struct {
		name  string
		archs []specs.Arch
	}{
		{"allowlist-native", []specs.Arch{specs.ArchX86_64}},
		{"allowlist-x86_64+x86+x32", nil},
	} {
		cfg := loadProfile(b, "allowlist.json")
		if bc.archs != nil {
			cfg.Architectures = bc.archs
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				prog, err := compile(cfg, "amd64")
				if err != nil {
					b.Fatal(err)
				}
				n = len(prog)
			}
			b.ReportMetric(float64(n), "insns")
		})
	}
}
