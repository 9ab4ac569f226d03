package seccomp

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	x86_64 = unix.AUDIT_ARCH_X86_64
	i386   = unix.AUDIT_ARCH_I386
	retErr = unix.SECCOMP_RET_ERRNO
)

func TestActionEncoding(t *testing.T) {
	tests := []struct {
		action specs.LinuxSeccompAction
		errno  *uint
		want   uint32
	}{
		{specs.ActKill, nil, 0x00000000},
		{specs.ActKillThread, nil, 0x00000000},
		{specs.ActKillProcess, nil, 0x80000000},
		{specs.ActTrap, nil, 0x00030000},
		{specs.ActErrno, nil, 0x00050000 | 1}, // EPERM
		{specs.ActErrno, uintp(38), 0x00050000 | 38},
		{specs.ActErrno, uintp(0), 0x00050000},
		{specs.ActErrno, uintp(0xffff), 0x0005ffff},
		{specs.ActTrace, nil, 0x7ff00000 | 1},
		{specs.ActTrace, uintp(4242), 0x7ff00000 | 4242},
		{specs.ActAllow, nil, 0x7fff0000},
		{specs.ActLog, nil, 0x7ffc0000},
		{specs.ActNotify, nil, 0x7fc00000},
	}
	getpid := nr(t, specs.ArchX86_64, "getpid")
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.action, tt.errno != nil), func(t *testing.T) {
			// As a rule's action.
			cfg := &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: tt.action, ErrnoRet: tt.errno}},
			}
			if tt.action == specs.ActAllow {
				cfg.DefaultAction = specs.ActLog
			}
			prog := mustCompile(t, cfg, "amd64")
			if got := mustRun(t, prog, seccompData{nr: getpid, arch: x86_64}); got != tt.want {
				t.Errorf("rule: got %#x, want %#x", got, tt.want)
			}
			// As the default action.
			if tt.action == specs.ActNotify {
				return
			}
			cfg = &specs.LinuxSeccomp{DefaultAction: tt.action, DefaultErrnoRet: tt.errno}
			prog = mustCompile(t, cfg, "amd64")
			if got := mustRun(t, prog, seccompData{nr: getpid, arch: x86_64}); got != tt.want {
				t.Errorf("default: got %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestErrnoDefaults(t *testing.T) {
	// defaultErrnoRet applies to the default action only; a rule's errno
	// defaults to EPERM, as config-linux.md says.
	cfg := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintp(uint(unix.ENOSYS)),
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno},
			{Names: []string{"rmdir"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EROFS))},
			{Names: []string{"getpid"}, Action: specs.ActAllow},
		},
	}
	prog := mustCompile(t, cfg, "amd64")
	tests := []struct {
		name string
		want uint32
	}{
		{"mkdir", retErr | uint32(unix.EPERM)},
		{"rmdir", retErr | uint32(unix.EROFS)},
		{"getpid", unix.SECCOMP_RET_ALLOW},
		{"uname", retErr | uint32(unix.ENOSYS)},
	}
	for _, tt := range tests {
		d := seccompData{nr: nr(t, specs.ArchX86_64, tt.name), arch: x86_64}
		if got := mustRun(t, prog, d); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, retString(got), retString(tt.want))
		}
	}
}

func TestArchitectures(t *testing.T) {
	allow := specs.LinuxSyscall{Names: []string{"getpid", "rt_sigaction"}, Action: specs.ActAllow}
	deny := retErr | uint32(unix.EPERM)
	enosys := retErr | uint32(unix.ENOSYS) // past the highest number named on the ABI
	tests := []struct {
		name   string
		goarch string
		archs  []specs.Arch
		d      seccompData
		want   uint32
	}{
		{"native getpid", "amd64", nil, seccompData{nr: 39, arch: x86_64}, unix.SECCOMP_RET_ALLOW},
		{"native gap", "amd64", nil, seccompData{nr: 38, arch: x86_64}, deny},
		{"native past getpid", "amd64", nil, seccompData{nr: 40, arch: x86_64}, enosys},
		{"i386 not listed", "amd64", nil, seccompData{nr: 20, arch: i386}, badArchRet},
		{"i386 listed getpid", "amd64", []specs.Arch{specs.ArchX86}, seccompData{nr: 20, arch: i386}, unix.SECCOMP_RET_ALLOW},
		{"i386 listed, x86_64 number", "amd64", []specs.Arch{specs.ArchX86}, seccompData{nr: 39, arch: i386}, deny},
		{"i386 past rt_sigaction", "amd64", []specs.Arch{specs.ArchX86}, seccompData{nr: 175, arch: i386}, enosys},
		{"native listed twice", "amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86_64}, seccompData{nr: 39, arch: x86_64}, unix.SECCOMP_RET_ALLOW},
		{"foreign arch skipped", "amd64", []specs.Arch{specs.ArchAARCH64, specs.ArchS390X}, seccompData{nr: 172, arch: unix.AUDIT_ARCH_AARCH64}, badArchRet},
		{"unknown audit arch", "amd64", []specs.Arch{specs.ArchX86, specs.ArchX32}, seccompData{nr: 39, arch: 0xdeadbeef}, badArchRet},
		{"x32 not listed", "amd64", nil, seccompData{nr: x32SyscallBit | 39, arch: x86_64}, deny},
		{"x32 listed getpid", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: x32SyscallBit | 39, arch: x86_64}, unix.SECCOMP_RET_ALLOW},
		{"x32 listed rt_sigaction", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: x32SyscallBit | 512, arch: x86_64}, unix.SECCOMP_RET_ALLOW},
		{"x32 64-bit-only number", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: x32SyscallBit | 13, arch: x86_64}, deny},
		{"x32 listed, x86_64 still works", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: 13, arch: x86_64}, unix.SECCOMP_RET_ALLOW},
		{"x32 listed, past x86_64 getpid", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: 40, arch: x86_64}, enosys},
		{"x32 past rt_sigaction", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: x32SyscallBit | 513, arch: x86_64}, enosys},
		{"nr -1", "amd64", nil, seccompData{nr: 0xffffffff, arch: x86_64}, deny},
		{"nr -1, x32 listed", "amd64", []specs.Arch{specs.ArchX32}, seccompData{nr: 0xffffffff, arch: x86_64}, enosys},
		{"aarch64 native", "arm64", nil, seccompData{nr: 172, arch: unix.AUDIT_ARCH_AARCH64}, unix.SECCOMP_RET_ALLOW},
		{"arm not listed", "arm64", nil, seccompData{nr: 20, arch: unix.AUDIT_ARCH_ARM}, badArchRet},
		{"arm listed", "arm64", []specs.Arch{specs.ArchARM}, seccompData{nr: 20, arch: unix.AUDIT_ARCH_ARM}, unix.SECCOMP_RET_ALLOW},
		{"x86 on arm64 skipped", "arm64", []specs.Arch{specs.ArchX86}, seccompData{nr: 20, arch: i386}, badArchRet},
		{"386 native", "386", nil, seccompData{nr: 20, arch: i386}, unix.SECCOMP_RET_ALLOW},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: tt.archs, Syscalls: []specs.LinuxSyscall{allow}}
			prog := mustCompile(t, cfg, tt.goarch)
			if got := mustRun(t, prog, tt.d); got != tt.want {
				t.Errorf("got %s, want %s\n%s", retString(got), retString(tt.want), disassemble(prog))
			}
			if ref := reference(cfg, tt.goarch, tt.d); ref != tt.want {
				t.Errorf("reference: got %s, want %s", retString(ref), retString(tt.want))
			}
		})
	}
}

func TestX32WithPermissiveDefault(t *testing.T) {
	// A denylist must not be escapable through x32 numbers.
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mount"}, Action: specs.ActErrno}},
	}
	prog := mustCompile(t, cfg, "amd64")
	tests := []struct {
		nr   uint32
		want uint32
	}{
		{165, retErr | uint32(unix.EPERM)},
		{x32SyscallBit | 165, retErr | uint32(unix.ENOSYS)},
		{x32SyscallBit | 39, retErr | uint32(unix.ENOSYS)},
		{0xffffffff, retErr | uint32(unix.ENOSYS)},
		{39, unix.SECCOMP_RET_ALLOW},
	}
	for _, tt := range tests {
		if got := mustRun(t, prog, seccompData{nr: tt.nr, arch: x86_64}); got != tt.want {
			t.Errorf("nr %#x: got %s, want %s", tt.nr, retString(got), retString(tt.want))
		}
	}
}

func TestNamesAndUnknownSyscalls(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			// no_such_syscall is unknown everywhere, arm_fadvise64_64
			// exists only on arm and _llseek only on i386: all skipped
			// where unknown.
			{Names: []string{"no_such_syscall", "getpid", "arm_fadvise64_64", "_llseek", "read", "getpid"}, Action: specs.ActAllow},
		},
	}
	prog := mustCompile(t, cfg, "amd64")
	tests := []struct {
		arch   uint32
		abi    specs.Arch
		name   string
		wantOK bool
	}{
		{x86_64, specs.ArchX86_64, "getpid", true},
		{x86_64, specs.ArchX86_64, "read", true},
		{x86_64, specs.ArchX86_64, "write", false},
		{i386, specs.ArchX86, "getpid", true},
		{i386, specs.ArchX86, "_llseek", true},
		{i386, specs.ArchX86, "write", false},
	}
	for _, tt := range tests {
		got := mustRun(t, prog, seccompData{nr: nr(t, tt.abi, tt.name), arch: tt.arch})
		if (got == unix.SECCOMP_RET_ALLOW) != tt.wantOK {
			t.Errorf("%s on %s: got %s, want allowed=%v", tt.name, tt.abi, retString(got), tt.wantOK)
		}
	}
}

func TestEmptyProfile(t *testing.T) {
	prog := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, "amd64")
	if got := mustRun(t, prog, seccompData{nr: 0, arch: x86_64}); got != unix.SECCOMP_RET_ALLOW {
		t.Errorf("got %s, want SCMP_ACT_ALLOW", retString(got))
	}
	if len(prog) > 8 {
		t.Errorf("got %d instructions, want at most 8\n%s", len(prog), disassemble(prog))
	}
}

func TestCompileErrors(t *testing.T) {
	getpid := func(s specs.LinuxSyscall) *specs.LinuxSeccomp {
		if s.Names == nil {
			s.Names = []string{"getpid"}
		}
		if s.Action == "" {
			s.Action = specs.ActAllow
		}
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{s}}
	}
	arg := func(i uint, op specs.LinuxSeccompOperator) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Value: 1, Op: op}
	}
	tests := []struct {
		name string
		cfg  *specs.LinuxSeccomp
		want string
	}{
		{"nil", nil, "no seccomp config"},
		{"no default action", &specs.LinuxSeccomp{}, "compile seccomp default action: missing action"},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_EXPLODE"}, `unknown action "SCMP_ACT_EXPLODE"`},
		{"notify default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, "SCMP_ACT_NOTIFY cannot be the default action"},
		{"default errno with allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uintp(1)}, "errnoRet 1 given for SCMP_ACT_ALLOW, which takes none"},
		{"default errno too big", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintp(70000)}, "errnoRet 70000 for SCMP_ACT_ERRNO does not fit in 16 bits"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}}, `unknown architecture "SCMP_ARCH_VAX"`},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FAST"}}, `unknown flag "SECCOMP_FILTER_FLAG_FAST"`},
		{"unknown rule action", getpid(specs.LinuxSyscall{Action: "SCMP_ACT_MAYBE"}), `compile seccomp rule for syscalls[0] (getpid): unknown action "SCMP_ACT_MAYBE"`},
		{"rule errno with kill", getpid(specs.LinuxSyscall{Action: specs.ActKill, ErrnoRet: uintp(5)}), "errnoRet 5 given for SCMP_ACT_KILL"},
		{"rule errno too big", getpid(specs.LinuxSyscall{Action: specs.ActTrace, ErrnoRet: uintp(1 << 16)}), "errnoRet 65536 for SCMP_ACT_TRACE does not fit"},
		{"no names", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Action: specs.ActAllow}}}, "compile seccomp rule for syscalls[0]: no syscall names"},
		{"unknown operator", getpid(specs.LinuxSyscall{Args: []specs.LinuxSeccompArg{arg(0, "SCMP_CMP_ROUGHLY")}}), `unknown operator "SCMP_CMP_ROUGHLY" for argument 0`},
		{"index 6", getpid(specs.LinuxSyscall{Args: []specs.LinuxSeccompArg{arg(6, specs.OpEqualTo)}}), "argument index 6 out of range 0-5"},
		{"huge index", getpid(specs.LinuxSyscall{Args: []specs.LinuxSeccompArg{arg(1<<40, specs.OpEqualTo)}}), "out of range 0-5"},
		{"bad operator after a repeated index", getpid(specs.LinuxSyscall{Args: []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo), arg(0, specs.OpEqualTo), arg(1, "SCMP_CMP_ABOUT")}}), `unknown operator "SCMP_CMP_ABOUT" for argument 1`},
		{"too large", tooLarge(), "more than the kernel's limit of 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := compile(tt.cfg, "amd64")
			if err == nil {
				t.Fatalf("got a program of %d instructions, want error %q", len(prog), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, "sparc64"); err == nil || !strings.Contains(err.Error(), "no syscall table for native architecture sparc64") {
		t.Errorf("sparc64: got error %v, want no syscall table", err)
	}
}

// tooLarge is a profile whose argument checks exceed BPF_MAXINSNS.
func tooLarge() *specs.LinuxSeccomp {
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
	for i := range 300 {
		s := specs.LinuxSyscall{Names: []string{"ioctl"}, Action: specs.ActAllow}
		for idx := range uint(4) {
			s.Args = append(s.Args, specs.LinuxSeccompArg{Index: idx, Value: uint64(i) << 33, Op: specs.OpEqualTo})
		}
		cfg.Syscalls = append(cfg.Syscalls, s)
	}
	return cfg
}

func TestFeatureLists(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"Actions", Actions(), []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
		{"Operators", Operators(), []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
		{"KnownFlags", KnownFlags(), []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
	}
	for _, tt := range tests {
		if strings.Join(tt.got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	archs := Archs()
	if len(archs) != 23 {
		t.Errorf("Archs: got %d names, want the 23 of runtime-spec v1.3.0: %v", len(archs), archs)
	}
	for _, a := range archs {
		if _, err := compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}}, "amd64"); err != nil {
			t.Errorf("Archs lists %s, but compile says %v", a, err)
		}
	}
}
