package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// semanticsCase is one syscall made under a profile, checked both on the
// compiled program and on the reference evaluator.
type semanticsCase struct {
	name string
	cfg  *specs.LinuxSeccomp
	d    seccompData
	want uint32
}

func (tt semanticsCase) run(t *testing.T) {
	t.Run(tt.name, func(t *testing.T) {
		prog := mustCompile(t, tt.cfg, "amd64")
		if got := mustRun(t, prog, tt.d); got != tt.want {
			t.Errorf("got %s, want %s\n%s", retString(got), retString(tt.want), disassemble(prog))
		}
		if ref := reference(tt.cfg, "amd64", tt.d); ref != tt.want {
			t.Errorf("reference: got %s, want %s", retString(ref), retString(tt.want))
		}
	})
}

func TestRulePrecedence(t *testing.T) {
	kill := func(action specs.LinuxSeccompAction, errno *uint, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{"kill"}, Action: action, ErrnoRet: errno, Args: args}
	}
	sig := func(op specs.LinuxSeccompOperator, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: 1, Value: v, Op: op}
	}
	kill9 := kill(specs.ActErrno, uintp(13), sig(specs.OpEqualTo, 9))
	kill15 := kill(specs.ActLog, nil, sig(specs.OpEqualTo, 15))
	killLow := kill(specs.ActTrap, nil, sig(specs.OpLessThan, 10))
	allowKill := kill(specs.ActAllow, nil)
	errnoKill := kill(specs.ActErrno, uintp(uint(unix.EXDEV)))
	defaultKill := kill(specs.ActErrno, nil)                           // the default action, EPERM
	defaultKill9 := kill(specs.ActErrno, nil, sig(specs.OpEqualTo, 9)) // likewise, with a condition
	tests := []struct {
		name  string
		rules []specs.LinuxSyscall
		sig   uint64
		want  uint32
	}{
		{"unconditional before conditional", []specs.LinuxSyscall{allowKill, kill9}, 9, unix.SECCOMP_RET_ALLOW},
		{"conditional before unconditional", []specs.LinuxSyscall{kill9, allowKill}, 9, unix.SECCOMP_RET_ALLOW},
		{"unconditional between conditionals", []specs.LinuxSyscall{killLow, allowKill, kill9}, 9, unix.SECCOMP_RET_ALLOW},
		{"first unconditional wins", []specs.LinuxSyscall{allowKill, errnoKill}, 9, unix.SECCOMP_RET_ALLOW},
		{"first unconditional wins, swapped", []specs.LinuxSyscall{errnoKill, allowKill}, 9, retErr | uint32(unix.EXDEV)},
		{"first unconditional wins past conditionals", []specs.LinuxSyscall{kill9, errnoKill, killLow, allowKill}, 9, retErr | uint32(unix.EXDEV)},
		{"same unconditional twice", []specs.LinuxSyscall{allowKill, allowKill}, 9, unix.SECCOMP_RET_ALLOW},
		{"default when no condition holds", []specs.LinuxSyscall{kill9, kill15}, 2, retErr | 1},
		{"conditional rules are ORed", []specs.LinuxSyscall{kill9, kill15}, 15, unix.SECCOMP_RET_LOG},
		{"first conditional wins", []specs.LinuxSyscall{killLow, kill9}, 9, unix.SECCOMP_RET_TRAP},
		{"first conditional wins, swapped", []specs.LinuxSyscall{kill9, killLow}, 9, retErr | 13},
		{"unconditional default-action rule dropped", []specs.LinuxSyscall{defaultKill, allowKill}, 9, unix.SECCOMP_RET_ALLOW},
		{"default-action rule hides no conditional", []specs.LinuxSyscall{defaultKill, kill9}, 9, retErr | 13},
		{"conditional default-action rule dropped", []specs.LinuxSyscall{defaultKill9, killLow}, 9, unix.SECCOMP_RET_TRAP},
	}
	for _, tt := range tests {
		semanticsCase{
			name: tt.name,
			cfg:  &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: tt.rules},
			d:    seccompData{nr: nr(t, specs.ArchX86_64, "kill"), arch: x86_64, args: [6]uint64{1, tt.sig}},
			want: tt.want,
		}.run(t)
	}
}

// TestSameArgument checks that conditions on distinct arguments are ANDed,
// and that a rule comparing one argument twice holds when any of its
// conditions does, as runc and crun split it into one rule per condition.
func TestSameArgument(t *testing.T) {
	arg := func(i uint, op specs.LinuxSeccompOperator, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Value: v, Op: op}
	}
	distinct := []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1), arg(1, specs.OpEqualTo, 5)}
	twice := []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1), arg(0, specs.OpEqualTo, 2)}
	mixed := []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1), arg(1, specs.OpEqualTo, 5), arg(0, specs.OpEqualTo, 2)}
	// A range on one argument, as a profile author might write it: with
	// OR semantics it holds for every value.
	between := []specs.LinuxSeccompArg{arg(0, specs.OpGreaterEqual, 10), arg(0, specs.OpLessEqual, 20)}
	// More conditions than a syscall has arguments are fine once one
	// argument repeats.
	seven := []specs.LinuxSeccompArg{}
	for v := range uint64(7) {
		seven = append(seven, arg(0, specs.OpEqualTo, 100+v))
	}
	const hit = unix.SECCOMP_RET_ERRNO | 77
	tests := []struct {
		name  string
		conds []specs.LinuxSeccompArg
		args  [6]uint64
		hit   bool
	}{
		{"distinct: both hold", distinct, [6]uint64{1, 5}, true},
		{"distinct: one holds", distinct, [6]uint64{1, 6}, false},
		{"distinct: other holds", distinct, [6]uint64{2, 5}, false},
		{"twice: first", twice, [6]uint64{1}, true},
		{"twice: second", twice, [6]uint64{2}, true},
		{"twice: neither", twice, [6]uint64{3}, false},
		{"mixed: arg0 alone", mixed, [6]uint64{2, 0}, true},
		{"mixed: arg1 alone", mixed, [6]uint64{3, 5}, true},
		{"mixed: none", mixed, [6]uint64{3, 6}, false},
		{"between: inside", between, [6]uint64{15}, true},
		{"between: below", between, [6]uint64{5}, true},
		{"between: above", between, [6]uint64{50}, true},
		{"seven: last", seven, [6]uint64{106}, true},
		{"seven: none", seven, [6]uint64{107}, false},
	}
	for _, tt := range tests {
		want := uint32(unix.SECCOMP_RET_ALLOW)
		if tt.hit {
			want = hit
		}
		for _, abi := range []specs.Arch{specs.ArchX86_64, specs.ArchX86} {
			a, _ := findABI(abi)
			semanticsCase{
				name: tt.name + "/" + string(abi),
				cfg: &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Architectures: []specs.Arch{specs.ArchX86},
					Syscalls: []specs.LinuxSyscall{{
						Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintp(77), Args: tt.conds,
					}},
				},
				d:    seccompData{nr: nr(t, abi, "getpid"), arch: a.audit, args: tt.args},
				want: want,
			}.run(t)
		}
	}
}

// TestEnosysPastHighest checks that a refusing default turns into ENOSYS
// for the numbers above the highest one the profile names on each ABI, so
// that glibc falls back from syscalls newer than the profile.
func TestEnosysPastHighest(t *testing.T) {
	enosys := retErr | uint32(unix.ENOSYS)
	// pidfd_open is 434 on every ABI here; clone3 is 435, newer.
	allow := specs.LinuxSyscall{Names: []string{"read", "pidfd_open", "getpid"}, Action: specs.ActAllow}
	profile := func(def specs.LinuxSeccompAction, errno *uint, rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{
			DefaultAction: def, DefaultErrnoRet: errno,
			Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
			Syscalls:      rules,
		}
	}
	x86_64Nr := func(name string) seccompData { return seccompData{nr: nr(t, specs.ArchX86_64, name), arch: x86_64} }
	i386Nr := func(name string) seccompData { return seccompData{nr: nr(t, specs.ArchX86, name), arch: i386} }
	x32Nr := func(name string) seccompData { return seccompData{nr: nr(t, specs.ArchX32, name), arch: x86_64} }
	errnoDef := profile(specs.ActErrno, nil, allow)
	onlyX86_64 := profile(specs.ActErrno, nil, specs.LinuxSyscall{
		Names: []string{"read", "getpid", "uprobe", "no_such_syscall"}, Action: specs.ActAllow,
	})
	tests := []semanticsCase{
		{"errno: past the highest", errnoDef, x86_64Nr("clone3"), enosys},
		{"errno: far past the highest", errnoDef, seccompData{nr: 100000, arch: x86_64}, enosys},
		{"errno: x32 bit minus one", errnoDef, seccompData{nr: x32SyscallBit - 1, arch: x86_64}, enosys},
		{"errno: the highest", errnoDef, x86_64Nr("pidfd_open"), unix.SECCOMP_RET_ALLOW},
		{"errno: a gap keeps the default", errnoDef, x86_64Nr("mount"), retErr | uint32(unix.EPERM)},
		{"errno: i386", errnoDef, i386Nr("clone3"), enosys},
		{"errno: i386 gap", errnoDef, i386Nr("mount"), retErr | uint32(unix.EPERM)},
		{"errno: x32", errnoDef, x32Nr("clone3"), enosys},
		{"errno: x32 nr -1", errnoDef, seccompData{nr: 0xffffffff, arch: x86_64}, enosys},
		{"errno: x32 gap", errnoDef, x32Nr("mount"), retErr | uint32(unix.EPERM)},
		{"kill process", profile(specs.ActKillProcess, nil, allow), x86_64Nr("clone3"), enosys},
		{"kill thread", profile(specs.ActKill, nil, allow), x86_64Nr("clone3"), enosys},
		{"trap", profile(specs.ActTrap, nil, allow), x86_64Nr("clone3"), enosys},
		{"errno ENOSYS", profile(specs.ActErrno, uintp(uint(unix.ENOSYS)), allow), x86_64Nr("clone3"), enosys},
		{"errno EACCES in a gap", profile(specs.ActErrno, uintp(uint(unix.EACCES)), allow), x86_64Nr("mount"), retErr | uint32(unix.EACCES)},
		// A permissive default lets the syscall run.
		{"allow", profile(specs.ActAllow, nil, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActErrno}), x86_64Nr("clone3"), unix.SECCOMP_RET_ALLOW},
		{"log", profile(specs.ActLog, nil, allow), x86_64Nr("clone3"), unix.SECCOMP_RET_LOG},
		{"trace", profile(specs.ActTrace, nil, allow), x86_64Nr("clone3"), unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
		// Every rule counts towards the highest number, whatever it does.
		{"a conditional rule counts", profile(specs.ActErrno, nil, allow, specs.LinuxSyscall{
			Names: []string{"clone3"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}},
		}), x86_64Nr("clone3"), retErr | uint32(unix.EPERM)},
		{"a default-action rule counts", profile(specs.ActErrno, nil, allow, specs.LinuxSyscall{
			Names: []string{"clone3"}, Action: specs.ActErrno,
		}), x86_64Nr("clone3"), retErr | uint32(unix.EPERM)},
		// Names unknown on an ABI do not count there: uprobe is x86_64's.
		{"a name unknown on i386 does not count there", onlyX86_64, i386Nr("mount"), enosys},
		{"but it counts where known", onlyX86_64, x86_64Nr("mount"), retErr | uint32(unix.EPERM)},
		// A profile that names nothing on an ABI leaves its default alone.
		{"nothing named", profile(specs.ActErrno, nil), x86_64Nr("clone3"), retErr | uint32(unix.EPERM)},
		{"nothing named on i386", profile(specs.ActErrno, nil, specs.LinuxSyscall{
			Names: []string{"uprobe"}, Action: specs.ActAllow,
		}), i386Nr("clone3"), retErr | uint32(unix.EPERM)},
	}
	for _, tt := range tests {
		tt.run(t)
	}
	// Without x32 listed its numbers keep their own treatment.
	noX32 := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow}}
	semanticsCase{"x32 not listed", noX32, x32Nr("getpid"), retErr | uint32(unix.EPERM)}.run(t)
}
