package seccomp

import (
	"math"
	"slices"
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
	// A refusing default turns into ENOSYS past the highest number the
	// profile names on the ABI.
	if highest, ok := highestNr(cfg, a); ok && d.nr > highest && !permits(def) {
		return unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	}
	// Rules with the default action are dropped; the first unconditional
	// rule for the syscall decides it.
	for _, s := range cfg.Syscalls {
		r, _ := actionRet(s.Action, s.ErrnoRet)
		if r != def && len(s.Args) == 0 && namesNr(a, s.Names, d.nr) {
			return r
		}
	}
	// Else the first conditional rule that holds, in config order.
	for _, s := range cfg.Syscalls {
		r, _ := actionRet(s.Action, s.ErrnoRet)
		if r != def && len(s.Args) > 0 && namesNr(a, s.Names, d.nr) && argsMatch(s.Args, d.args, a.arg32) {
			return r
		}
	}
	return def
}

// highestNr returns the highest number that cfg's rules name on ABI a.
func highestNr(cfg *specs.LinuxSeccomp, a abi) (uint32, bool) {
	var highest uint32
	found := false
	for _, s := range cfg.Syscalls {
		for _, n := range s.Names {
			if nr, ok := lookup(a.col, n); ok {
				highest, found = max(highest, nr), true
			}
		}
	}
	return highest, found
}

func namesNr(a abi, names []string, nr uint32) bool {
	for _, n := range names {
		if got, ok := lookup(a.col, n); ok && got == nr {
			return true
		}
	}
	return false
}

// argsMatch reports whether a rule's conditions hold: all of them, or,
// when the rule compares one argument more than once, any of them.
func argsMatch(conds []specs.LinuxSeccompArg, args [6]uint64, arg32 bool) bool {
	counts := map[uint]int{}
	for _, c := range conds {
		counts[c.Index]++
	}
	for _, n := range counts {
		if n > 1 {
			return slices.ContainsFunc(conds, func(c specs.LinuxSeccompArg) bool {
				return opHolds(c.Op, args[c.Index], c.Value, c.ValueTwo, arg32)
			})
		}
	}
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
