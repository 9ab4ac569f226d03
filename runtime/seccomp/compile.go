package seccomp

import (
	"errors"
	"fmt"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Compile builds the filter program for the native architecture plus every
// architecture in cfg.Architectures. Syscall names unknown on an
// architecture are skipped, as profiles name syscalls newer than some
// kernels. See the package documentation for the program's layout.
func Compile(cfg *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	return compile(cfg, runtime.GOARCH)
}

func compile(cfg *specs.LinuxSeccomp, goarch string) ([]unix.SockFilter, error) {
	if cfg == nil {
		return nil, errors.New("compile seccomp filter: no seccomp config")
	}
	def, err := actionRet(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("compile seccomp default action: %w", err)
	}
	if cfg.DefaultAction == specs.ActNotify {
		// libseccomp refuses this too: every syscall, the runtime's own
		// after Load included, would wait for an agent not yet told of it.
		return nil, errors.New("compile seccomp default action: SCMP_ACT_NOTIFY cannot be the default action")
	}
	if _, err := flagBits(cfg.Flags); err != nil {
		return nil, err
	}
	abis, err := selectABIs(cfg.Architectures, goarch)
	if err != nil {
		return nil, err
	}
	rules, err := parseRules(cfg.Syscalls)
	if err != nil {
		return nil, err
	}
	groups := groupByAudit(abis)
	spans := make([][]span, len(groups))
	buf := make([]entry, 0, entryBound(groups, rules))
	for i, g := range groups {
		buf = collect(g, rules, buf)
		spans[i] = partition(buf, rules, def, numRanges(g, def))
	}
	return link(groups, spans)
}

// entryBound is the most entries collect can gather for one group.
func entryBound(groups []archGroup, rules []rule) int {
	names, abis := 0, 0
	for _, r := range rules {
		names += len(r.rows)
	}
	for _, g := range groups {
		abis = max(abis, len(g.abis))
	}
	return names * abis
}

// link emits the program: the arch dispatch, then each group's block, a
// load of the syscall number and the search over its spans.
//
//	ld  arch
//	jeq native, -> native block
//	jeq other1, 0, 1;  ja -> block 1   (one pair per other arch)
//	ret KILL_PROCESS                   (an arch the filter does not serve)
//	native block; block 1; ...
func link(groups []archGroup, spans [][]span) ([]unix.SockFilter, error) {
	others := len(groups) - 1
	head := 2 + 2*others + 1
	sizes := make([]int, len(groups))
	n := head
	for i, s := range spans {
		sizes[i] = 1 + treeSize(s)
		n += sizes[i]
	}
	if n > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("compile seccomp filter: program has %d instructions, more than the kernel's limit of %d", n, unix.BPF_MAXINSNS)
	}
	prog := make([]unix.SockFilter, 0, n)
	prog = append(prog, load(offArch), jump(opJeq, groups[0].audit, uint8(2*others+1), 0))
	start := head + sizes[0]
	for i := 1; i < len(groups); i++ {
		at := len(prog) + 1 // the ja
		prog = append(prog, jump(opJeq, groups[i].audit, 0, 1), jumpTo(uint32(start-at-1)))
		start += sizes[i]
	}
	prog = append(prog, ret(badArchRet))
	for _, s := range spans {
		prog = append(prog, load(offNr))
		prog = emitTree(prog, s)
	}
	return prog, nil
}
