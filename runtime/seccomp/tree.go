package seccomp

import (
	"math"
	"slices"

	"golang.org/x/sys/unix"
)

// leaf is what the filter does for a span of syscall numbers: return ret,
// or, when code is set, run a syscall's argument checks.
type leaf struct {
	ret  uint32
	code []unix.SockFilter
}

func (l leaf) size() int {
	if l.code != nil {
		return len(l.code)
	}
	return 1
}

// span is the numbers from lo up to the next span's lo, all with one leaf.
type span struct {
	lo   uint32
	leaf leaf
}

// enosys is what a syscall the kernel does not know returns.
const enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// numRange is the syscall numbers from the previous range's end up to end
// (exclusive), which one ABI of a group uses, and what its numbers that no
// rule names return.
type numRange struct {
	end uint64
	// past is for the numbers above the highest one a rule names.
	past uint32
	// none is for every number when no rule names any.
	none uint32
}

// numRanges cuts the 32-bit number space of group g into the ranges of
// its ABIs: x86_64 and x32 share one arch and split it at x32SyscallBit;
// every other ABI has it whole.
//
// Past the highest number the profile names on an ABI, a refusing default
// becomes ENOSYS, as in runc: a profile predating a syscall (clone3, say)
// then makes it look absent, and glibc falls back to the older one it
// replaces instead of failing with EPERM. A permissive default stays.
//
// An x86_64 group without x32 gives the x32 numbers the default action when
// it refuses the syscall; when the default would let it run, they get
// ENOSYS, as from a kernel without x32, so that x32 cannot be used to get
// around a denylist written for x86_64.
func numRanges(g archGroup, def uint32) []numRange {
	past := def
	if !permits(def) {
		past = enosys
	}
	served := func(end uint64) numRange { return numRange{end: end, past: past, none: def} }
	if g.audit != unix.AUDIT_ARCH_X86_64 {
		return []numRange{served(math.MaxUint32 + 1)}
	}
	if slices.ContainsFunc(g.abis, func(a abi) bool { return a.x32 }) {
		return []numRange{served(x32SyscallBit), served(math.MaxUint32 + 1)}
	}
	x32 := def
	if permits(def) {
		x32 = enosys
	}
	return []numRange{served(x32SyscallBit), {end: math.MaxUint32 + 1, past: x32, none: x32}}
}

// partition cuts the 32-bit syscall number space into spans, merging
// neighbours that return the same value. es is sorted by number.
func partition(es []entry, rules []rule, def uint32, ranges []numRange) []span {
	spans := make([]span, 0, len(es)/4+16) // allowlists have about a quarter as many spans as entries
	add := func(lo uint32, l leaf) {
		if n := len(spans); n > 0 && l.code == nil && spans[n-1].leaf.code == nil && spans[n-1].leaf.ret == l.ret {
			return
		}
		spans = append(spans, span{lo: lo, leaf: l})
	}
	var cur uint64 // first number not yet covered
	i := 0
	for _, r := range ranges {
		first := i
		for i < len(es) && uint64(es[i].nr) < r.end {
			j := i + 1
			for j < len(es) && es[j].nr == es[i].nr {
				j++
			}
			if nr := uint64(es[i].nr); nr > cur {
				add(uint32(cur), leaf{ret: def})
			}
			add(es[i].nr, syscallLeaf(es[i:j], rules, def))
			cur = uint64(es[i].nr) + 1
			i = j
		}
		if cur < r.end {
			if i == first {
				add(uint32(cur), leaf{ret: r.none})
			} else {
				add(uint32(cur), leaf{ret: r.past})
			}
		}
		cur = r.end
	}
	return spans
}

// syscallLeaf builds the leaf of one syscall number from its entries with
// libseccomp's semantics, which runc and crun inherit and profiles are
// written for:
//
//   - A rule whose action is the default action is dropped: runc and crun
//     skip it, since libseccomp refuses it. It decides nothing and hides
//     nothing.
//   - The first unconditional rule for a syscall decides it, and the rules
//     with argument conditions for that syscall are ignored: libseccomp
//     drops a rule added after an unconditional one, and an unconditional
//     rule replaces the conditional ones before it. The containers-common
//     profile allows setns in its big allowlist and denies it again further
//     down; the allow wins.
//   - Without an unconditional rule, the alternatives of the conditional
//     rules are tried in config order, then the default applies.
func syscallLeaf(es []entry, rules []rule, def uint32) leaf {
	if r := &rules[es[0].rule]; len(es) == 1 && len(r.alts) == 0 {
		return leaf{ret: r.ret} // the common case: one catch-all rule
	}
	var chain []int
	for i, e := range es {
		if i > 0 && es[i-1].rule == e.rule {
			continue // the rule names this syscall twice
		}
		r := &rules[e.rule]
		switch {
		case r.ret == def:
		case len(r.alts) == 0:
			return leaf{ret: r.ret}
		default:
			chain = append(chain, int(e.rule))
		}
	}
	arg32 := es[0].arg32
	type live struct {
		conds []cond
		ret   uint32
	}
	fallback := def
	var lives []live
outer:
	for _, ri := range chain {
		for _, alt := range rules[ri].alts {
			conds, t := foldRule(alt, arg32)
			if t == never {
				continue
			}
			if t == always { // the alternatives after this one can never be reached
				fallback = rules[ri].ret
				break outer
			}
			lives = append(lives, live{conds, rules[ri].ret})
		}
	}
	for len(lives) > 0 && lives[len(lives)-1].ret == fallback {
		lives = lives[:len(lives)-1] // returns what falling through returns
	}
	if len(lives) == 0 {
		return leaf{ret: fallback}
	}
	var b blockBuilder
	for _, l := range lives {
		b.rule(l.conds, l.ret, arg32)
	}
	b.code = append(b.code, ret(fallback))
	return leaf{code: b.code}
}

// treeSize is the number of instructions emitTree emits for spans.
func treeSize(spans []span) int {
	if len(spans) == 1 {
		return spans[0].leaf.size()
	}
	mid := len(spans) / 2
	left := treeSize(spans[:mid])
	n := 1 + left + treeSize(spans[mid:])
	if left > maxJump {
		n++ // a ja to reach the right half
	}
	return n
}

// emitTree appends a binary search over spans: each node compares the
// number with the first number of its right half and falls through into its
// left half; the leaves return or check arguments.
func emitTree(dst []unix.SockFilter, spans []span) []unix.SockFilter {
	if len(spans) == 1 {
		if l := spans[0].leaf; l.code != nil {
			return append(dst, l.code...)
		}
		return append(dst, ret(spans[0].leaf.ret))
	}
	mid := len(spans) / 2
	left := treeSize(spans[:mid])
	if left <= maxJump {
		dst = append(dst, jump(opJge, spans[mid].lo, uint8(left), 0))
	} else {
		dst = append(dst, jump(opJge, spans[mid].lo, 0, 1), jumpTo(uint32(left)))
	}
	dst = emitTree(dst, spans[:mid])
	return emitTree(dst, spans[mid:])
}
