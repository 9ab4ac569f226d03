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

// x32Ret returns what an x86_64 group without x32 does with numbers that
// carry x32SyscallBit (nil when that does not apply). They take the default
// action when it refuses the syscall; when the default would let it run,
// they get ENOSYS, as from a kernel without x32, so that x32 cannot be used
// to get around a denylist written for x86_64.
func x32Ret(g archGroup, def uint32) *uint32 {
	if g.audit != unix.AUDIT_ARCH_X86_64 || slices.ContainsFunc(g.abis, func(a abi) bool { return a.x32 }) {
		return nil
	}
	r := def
	if permits(def) {
		r = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	}
	return &r
}

// partition cuts the 32-bit syscall number space into spans, merging
// neighbours that return the same value. es is sorted by number.
func partition(es []entry, rules []rule, def uint32, x32 *uint32) ([]span, error) {
	spans := make([]span, 0, len(es)/4+16) // allowlists have about a quarter as many spans as entries
	add := func(lo uint32, l leaf) {
		if n := len(spans); n > 0 && l.code == nil && spans[n-1].leaf.code == nil && spans[n-1].leaf.ret == l.ret {
			return
		}
		spans = append(spans, span{lo: lo, leaf: l})
	}
	var cur uint64 // first number not yet covered
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].nr == es[i].nr {
			j++
		}
		l, err := syscallLeaf(es[i:j], rules, def)
		if err != nil {
			return nil, err
		}
		if nr := uint64(es[i].nr); nr > cur {
			add(uint32(cur), leaf{ret: def})
		}
		add(es[i].nr, l)
		cur = uint64(es[i].nr) + 1
		i = j
	}
	if x32 != nil && cur <= x32SyscallBit {
		if cur < x32SyscallBit {
			add(uint32(cur), leaf{ret: def})
		}
		add(x32SyscallBit, leaf{ret: *x32})
		cur = math.MaxUint32 + 1
	}
	if cur <= math.MaxUint32 {
		add(uint32(cur), leaf{ret: def})
	}
	return spans, nil
}

// syscallLeaf builds the leaf of one syscall number from its entries with
// libseccomp's semantics, which runc and crun inherit and profiles are
// written for: the first unconditional rule for a syscall decides it, and
// rules with argument conditions for that syscall are then ignored (the
// containers-common profile allows setns in its big allowlist and denies
// it again further down; the allow wins). Without an unconditional rule,
// the conditional rules are tried in config order, then the default.
func syscallLeaf(es []entry, rules []rule, def uint32) (leaf, error) {
	if r := &rules[es[0].rule]; len(es) == 1 && len(r.conds) == 0 {
		return leaf{ret: r.ret}, nil // the common case: one catch-all rule
	}
	fallback := def
	var chain []int
	for i, e := range es {
		if i > 0 && es[i-1].rule == e.rule {
			continue // the rule names this syscall twice
		}
		r := &rules[e.rule]
		if len(r.conds) == 0 {
			return leaf{ret: r.ret}, nil
		}
		chain = append(chain, int(e.rule))
	}
	arg32 := es[0].arg32
	type live struct {
		conds []cond
		ret   uint32
	}
	lives := make([]live, 0, len(chain))
	for _, ri := range chain {
		conds, t := foldRule(rules[ri].conds, arg32)
		if t == never {
			continue
		}
		if t == always { // the rules after this one can never be reached
			fallback = rules[ri].ret
			break
		}
		lives = append(lives, live{conds, rules[ri].ret})
	}
	for len(lives) > 0 && lives[len(lives)-1].ret == fallback {
		lives = lives[:len(lives)-1] // returns what falling through returns
	}
	if len(lives) == 0 {
		return leaf{ret: fallback}, nil
	}
	var b blockBuilder
	for _, l := range lives {
		b.rule(l.conds, l.ret, arg32)
	}
	b.code = append(b.code, ret(fallback))
	return leaf{code: b.code}, nil
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
