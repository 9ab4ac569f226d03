package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// knownAction, knownOp, knownArch and knownFlag are the vocabulary of
// runtime-spec 1.3 seccomp profiles.
func knownAction(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActErrno,
		specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify:
		return true
	}
	return false
}

func knownOp(o specs.LinuxSeccompOperator) bool {
	switch o {
	case specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual:
		return true
	}
	return false
}

func knownArch(a specs.Arch) bool {
	switch a {
	case specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
		specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
		specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
		specs.ArchM68K, specs.ArchSH, specs.ArchSHEB:
		return true
	}
	return false
}

func knownFlag(f specs.LinuxSeccompFlag) bool {
	switch f {
	case specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow,
		specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_TSYNC":
		return true
	}
	return false
}

// validate refuses what no runtime could load, with the rule's index, so a
// bad profile fails at create rather than at start.
func (p *Profile) validate() error {
	if p.DefaultAction == "" {
		if len(p.Syscalls) == 0 {
			return nil
		}
		return invalidf("seccomp profile: defaultAction is missing")
	}
	if !knownAction(p.DefaultAction) {
		return invalidf("seccomp profile: unknown defaultAction %q", p.DefaultAction)
	}
	if p.DefaultAction == specs.ActNotify {
		return invalidf("seccomp profile: SCMP_ACT_NOTIFY cannot be the default action")
	}
	if p.DefaultErrnoRet != nil && !takesErrno(p.DefaultAction) {
		return invalidf("seccomp profile: defaultErrnoRet is set but defaultAction %s takes no errno", p.DefaultAction)
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return invalidf("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'")
	}
	for _, a := range p.Architectures {
		if !knownArch(a) {
			return invalidf("seccomp profile: unknown architecture %q", a)
		}
	}
	for _, m := range p.ArchMap {
		for _, a := range append([]specs.Arch{m.Arch}, m.SubArches...) {
			if !knownArch(a) {
				return invalidf("seccomp profile: unknown architecture %q in archMap", a)
			}
		}
	}
	for _, f := range p.Flags {
		if !knownFlag(f) {
			return invalidf("seccomp profile: unknown flag %q", f)
		}
	}
	for i := range p.Syscalls {
		if err := p.Syscalls[i].validate(i); err != nil {
			return err
		}
	}
	return nil
}

func (r *Syscall) validate(i int) error {
	if r.Name != "" && len(r.Names) > 0 {
		return invalidf("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'")
	}
	if r.Name == "" && len(r.Names) == 0 {
		return invalidf("seccomp profile: syscalls[%d] names no syscall", i)
	}
	names := r.Names
	if r.Name != "" {
		names = []string{r.Name}
	}
	for _, n := range names {
		if !validSyscallName(n) {
			return invalidf("seccomp profile: syscalls[%d]: invalid syscall name %q", i, n)
		}
	}
	if !knownAction(r.Action) {
		return invalidf("seccomp profile: syscalls[%d]: unknown action %q", i, r.Action)
	}
	if r.ErrnoRet != nil && !takesErrno(r.Action) {
		return invalidf("seccomp profile: syscalls[%d]: errnoRet is set but action %s takes no errno", i, r.Action)
	}
	for _, a := range r.Args {
		if a.Index > 5 {
			return invalidf("seccomp profile: syscalls[%d]: argument index %d is out of range 0-5", i, a.Index)
		}
		if !knownOp(a.Op) {
			return invalidf("seccomp profile: syscalls[%d]: unknown operator %q", i, a.Op)
		}
	}
	return nil
}

// takesErrno: SCMP_ACT_ERRNO returns it, SCMP_ACT_TRACE passes it to the
// tracer.
func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

// validSyscallName accepts the shape of syscall names (lower-case letters,
// digits, underscores); names unknown to the kernel are fine, as runtimes
// skip them.
func validSyscallName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// nativeArch maps a GOARCH to the architecture names of profiles' filters
// (libseccomp's).
func nativeArch(goarch string) string {
	switch goarch {
	case "386":
		return "x86"
	case "loong64":
		return "loongarch64"
	case "mips64p32":
		return "mips64n32"
	case "mips64le":
		return "mipsel64"
	case "mips64p32le":
		return "mipsel64n32"
	}
	return goarch
}

// seccompArchOf maps such a name to its SCMP_ARCH_ constant.
func seccompArchOf(native string) (specs.Arch, bool) {
	a, ok := map[string]specs.Arch{
		"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
		"loongarch64": specs.ArchLOONGARCH64, "mips": specs.ArchMIPS, "mipsle": specs.ArchMIPSEL,
		"mips64": specs.ArchMIPS64, "mips64n32": specs.ArchMIPS64N32, "mipsel64": specs.ArchMIPSEL64,
		"mipsel64n32": specs.ArchMIPSEL64N32, "ppc": specs.ArchPPC, "ppc64": specs.ArchPPC64,
		"ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64, "s390": specs.ArchS390,
		"s390x": specs.ArchS390X,
	}[native]
	return a, ok
}
