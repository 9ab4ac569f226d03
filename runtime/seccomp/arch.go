package seccomp

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// abi is one syscall ABI the filter can serve: a column of syscallTable and
// the seccomp_data.arch value (AUDIT_ARCH_*) the kernel reports for it.
type abi struct {
	name  specs.Arch
	audit uint32
	col   int
	// arg32 marks a 32-bit ABI. The kernel truncates its arguments to 32
	// bits, so only the low half of each seccomp_data.args slot is compared
	// and the high half is taken as zero: comparing the high half would let
	// a caller that sets it (a 64-bit process using int $0x80, say) slip
	// past a rule that denies a value.
	arg32 bool
	// x32 marks the x32 ABI, which shares AUDIT_ARCH_X86_64 with x86_64 and
	// sets x32SyscallBit in its syscall numbers.
	x32 bool
}

// knownABIs are the ABIs with syscall tables. seccomp_data is little-endian
// on all of them, which argOffsets relies on.
var knownABIs = [...]abi{
	{name: specs.ArchX86_64, audit: unix.AUDIT_ARCH_X86_64, col: colX86_64},
	{name: specs.ArchX86, audit: unix.AUDIT_ARCH_I386, col: colX86, arg32: true},
	{name: specs.ArchX32, audit: unix.AUDIT_ARCH_X86_64, col: colX32, x32: true},
	{name: specs.ArchAARCH64, audit: unix.AUDIT_ARCH_AARCH64, col: colAArch64},
	{name: specs.ArchARM, audit: unix.AUDIT_ARCH_ARM, col: colARM, arg32: true},
}

// family returns, for a GOARCH this package supports as native, the native
// ABI first and then the ABIs a kernel of that architecture can also run. An
// architecture listed in the config outside the native family is recognised
// and left out of the program: the kernel never reports it, so its block
// could never run.
func family(goarch string) []specs.Arch {
	switch goarch {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "386":
		return []specs.Arch{specs.ArchX86}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	case "arm":
		return []specs.Arch{specs.ArchARM}
	}
	return nil
}

// recognisedArchs are all the architecture names of runtime-spec v1.3.0.
var recognisedArchs = [...]specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL,
	specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64,
	specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X, specs.ArchPARISC,
	specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64, specs.ArchM68K,
	specs.ArchSH, specs.ArchSHEB,
}

// Archs returns the architecture names Compile accepts in
// LinuxSeccomp.Architectures.
func Archs() []string {
	out := make([]string, len(recognisedArchs))
	for i, a := range recognisedArchs {
		out[i] = string(a)
	}
	slices.Sort(out)
	return out
}

func findABI(name specs.Arch) (abi, bool) {
	for _, a := range knownABIs {
		if a.name == name {
			return a, true
		}
	}
	return abi{}, false
}

// selectABIs returns the ABIs the program serves on goarch: the native one
// first, then those of the native family that archs lists, in family order.
func selectABIs(archs []specs.Arch, goarch string) ([]abi, error) {
	fam := family(goarch)
	if fam == nil {
		return nil, fmt.Errorf("compile seccomp filter: no syscall table for native architecture %s", goarch)
	}
	for _, a := range archs {
		if !slices.Contains(recognisedArchs[:], a) {
			return nil, fmt.Errorf("compile seccomp filter: unknown architecture %q", a)
		}
	}
	out := make([]abi, 0, len(fam))
	for i, name := range fam {
		if i > 0 && !slices.Contains(archs, name) {
			continue
		}
		a, _ := findABI(name)
		out = append(out, a)
	}
	return out, nil
}

// archGroup is the ABIs that share one seccomp_data.arch value.
type archGroup struct {
	audit uint32
	abis  []abi
}

// groupByAudit groups abis by audit arch, keeping first-seen order, so the
// native arch comes first.
func groupByAudit(abis []abi) []archGroup {
	var groups []archGroup
outer:
	for _, a := range abis {
		for i := range groups {
			if groups[i].audit == a.audit {
				groups[i].abis = append(groups[i].abis, a)
				continue outer
			}
		}
		groups = append(groups, archGroup{audit: a.audit, abis: []abi{a}})
	}
	return groups
}
