package seccomp

import (
	"math"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// reference evaluates cfg on d straight from the semantics the package
// documents, without building a program, for differential tests. cfg must
// compile.
func reference(cfg *specs.LinuxSeccomp, goarch string, d seccompData) uint32 {
	def, _ := actionRet(cfg.DefaultAction, cfg.DefaultErrnoRet)
	abis, _ := selectABIs(cfg.Architectures, goarch)
	var on []abi
	for _, a := range abis {
		if a.audit == d.arch {
			on = append(on, a)
		}
	}
	if len(on) == 0 {
		return badArchRet
	}
	a := on[0]
	if d.arch == unix.AUDIT_ARCH_X86_64 && d.nr >= x32SyscallBit {
		found := false
		for _, b := range on {
			if b.x32 {
				a, found = b, true
			}
		}
		if !found {
			if permits(def) {
				return unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
			}
			return def
		}
	}
	var uncond *uint32
	for _, s := range cfg.Syscalls {
		if !namesNr(a, s.Names, d.nr) {
			continue
		}
		r, _ := actionRet(s.Action, s.ErrnoRet)
		if len(s.Args) == 0 {
			if uncond == nil {
				uncond = &r
			}
			continue
		}
		if argsMatch(s.Args, d.args, a.arg32) {
			return r // conditional rules come first, in config order
		}
	}
	if uncond != nil {
		return *uncond
	}
	return def
}

func namesNr(a abi, names []string, nr uint32) bool {
	for _, n := range names {
		if got, ok := lookup(a.col, n); ok && got == nr {
			return true
		}
	}
	return false
}

func argsMatch(conds []specs.LinuxSeccompArg, args [6]uint64, arg32 bool) bool {
	for _, c := range conds {
		if !opHolds(c.Op, args[c.Index], c.Value, c.ValueTwo, arg32) {
			return false
		}
	}
	return true
}

func opHolds(op specs.LinuxSeccompOperator, arg, v, v2 uint64, arg32 bool) bool {
	if arg32 {
		arg &= math.MaxUint32
	}
	switch op {
	case specs.OpNotEqual:
		return arg != v
	case specs.OpLessThan:
		return arg < v
	case specs.OpLessEqual:
		return arg <= v
	case specs.OpEqualTo:
		return arg == v
	case specs.OpGreaterEqual:
		return arg >= v
	case specs.OpGreaterThan:
		return arg > v
	case specs.OpMaskedEqual:
		return arg&v == v2
	}
	panic("unknown operator " + op)
}

// mustCompile compiles cfg for goarch and checks the program as the kernel
// would.
func mustCompile(t testing.TB, cfg *specs.LinuxSeccomp, goarch string) []unix.SockFilter {
	t.Helper()
	prog, err := compile(cfg, goarch)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if err := check(prog); err != nil {
		t.Fatalf("check: %v\n%s", err, disassemble(prog))
	}
	return prog
}

// mustRun runs prog on d.
func mustRun(t testing.TB, prog []unix.SockFilter, d seccompData) uint32 {
	t.Helper()
	got, err := run(prog, d, nil)
	if err != nil {
		t.Fatalf("run %+v: %v", d, err)
	}
	return got
}

// nr returns the number of name on the ABI called arch.
func nr(t testing.TB, arch specs.Arch, name string) uint32 {
	t.Helper()
	a, ok := findABI(arch)
	if !ok {
		t.Fatalf("no ABI %s", arch)
	}
	n, ok := lookup(a.col, name)
	if !ok {
		t.Fatalf("no syscall %s on %s", name, arch)
	}
	return n
}

func uintp(v uint) *uint { return &v }
