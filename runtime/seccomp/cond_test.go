package seccomp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// edges are argument and rule values around every boundary the 64-bit
// comparison code splits on: the halves' zero, one, sign bit and maximum.
var edges = []uint64{
	0, 1, 2, 0x7f, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	0x1_00000000, 0x1_00000001, 0x1_ffffffff, 0x2_00000000,
	0x7fffffff_ffffffff, 0x80000000_00000000, 0x80000000_00000001,
	0xffffffff_00000000, 0xffffffff_7fffffff, 0xffffffff_fffffffe, 0xffffffff_ffffffff,
}

var allOps = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

// TestOperators checks every operator, for a 64-bit ABI (x86_64) and a
// 32-bit one (i386), on every pair of edge values, against opHolds.
func TestOperators(t *testing.T) {
	arches := []struct {
		arch  specs.Arch
		audit uint32
		arg32 bool
	}{
		{specs.ArchX86_64, unix.AUDIT_ARCH_X86_64, false},
		{specs.ArchX86, unix.AUDIT_ARCH_I386, true},
	}
	const hit = unix.SECCOMP_RET_ERRNO | 77
	for _, a := range arches {
		getpid := nr(t, a.arch, "getpid")
		for _, op := range allOps {
			t.Run(fmt.Sprintf("%s/%s", a.arch, op), func(t *testing.T) {
				for _, v := range edges {
					for _, v2 := range valueTwos(op) {
						for idx := range uint(maxArgs) {
							c := specs.LinuxSeccompArg{Index: idx, Value: v, ValueTwo: v2, Op: op}
							cfg := &specs.LinuxSeccomp{
								DefaultAction: specs.ActAllow,
								Architectures: []specs.Arch{specs.ArchX86},
								Syscalls: []specs.LinuxSyscall{{
									Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintp(77),
									Args: []specs.LinuxSeccompArg{c},
								}},
							}
							prog := mustCompile(t, cfg, "amd64")
							for _, arg := range edges {
								d := seccompData{nr: getpid, arch: a.audit}
								for i := range d.args {
									d.args[i] = ^arg // the other slots must not matter
								}
								d.args[idx] = arg
								got := mustRun(t, prog, d) == hit
								want := opHolds(op, arg, v, v2, a.arg32)
								if got != want {
									t.Fatalf("arg%d=%#x %s value=%#x valueTwo=%#x: got %v, want %v\n%s",
										idx, arg, op, v, v2, got, want, disassemble(prog))
								}
							}
						}
					}
				}
			})
		}
	}
}

func valueTwos(op specs.LinuxSeccompOperator) []uint64 {
	if op == specs.OpMaskedEqual {
		return edges
	}
	return []uint64{0, 0xdead} // ignored by the other operators
}

// TestRandomRules checks random profiles against the reference evaluator
// on random and edge arguments: multi-argument rules, arguments compared
// twice, unconditional rules that disagree, rules with the default action,
// and numbers past the highest one named.
func TestRandomRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	value := func() uint64 {
		switch rng.IntN(3) {
		case 0:
			return edges[rng.IntN(len(edges))]
		case 1:
			return rng.Uint64()
		}
		return uint64(rng.IntN(8))
	}
	names := []string{"getpid", "kill", "mmap", "socket", "uprobe"}
	actions := []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActLog, specs.ActTrap, specs.ActKillProcess}
	for iter := range 300 {
		cfg := &specs.LinuxSeccomp{DefaultAction: actions[rng.IntN(len(actions))], Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32}}
		for range 1 + rng.IntN(6) {
			s := specs.LinuxSyscall{Names: []string{names[rng.IntN(len(names))]}, Action: actions[rng.IntN(len(actions))]}
			if s.Action == specs.ActErrno && rng.IntN(2) == 0 {
				s.ErrnoRet = uintp(uint(rng.IntN(3))) // EPERM, the default's errno, one time in three
			}
			for range rng.IntN(4) {
				s.Args = append(s.Args, specs.LinuxSeccompArg{
					Index: uint(rng.IntN(3)), Op: allOps[rng.IntN(len(allOps))], Value: value(), ValueTwo: value(),
				})
			}
			cfg.Syscalls = append(cfg.Syscalls, s)
		}
		prog := mustCompile(t, cfg, "amd64")
		for range 50 {
			d := seccompData{arch: []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386}[rng.IntN(2)]}
			abi := specs.ArchX86_64
			if d.arch == unix.AUDIT_ARCH_I386 {
				abi = specs.ArchX86
			} else if rng.IntN(4) == 0 {
				abi = specs.ArchX32
			}
			a, _ := findABI(abi)
			if n, ok := lookup(a.col, names[rng.IntN(len(names))]); ok && rng.IntN(8) > 0 {
				d.nr = n
			} else {
				d.nr = rng.Uint32N(600)
				if a.x32 {
					d.nr |= x32SyscallBit
				}
			}
			for i := range 3 {
				d.args[i] = value()
			}
			if got, want := mustRun(t, prog, d), reference(cfg, "amd64", d); got != want {
				t.Fatalf("iteration %d, %+v: got %s, want %s\nconfig %+v\n%s", iter, d, retString(got), retString(want), cfg, disassemble(prog))
			}
		}
	}
}
