package seccomp

import (
	"math"

	"golang.org/x/sys/unix"
)

// target is where one branch of a condition's jump goes.
type target uint8

const (
	next target = iota // the following instruction
	pass               // past this condition: it holds
	fail               // past this alternative's return: try the next one
)

// ref is a jump field waiting for its target's position.
type ref struct {
	at int
	jt bool
}

// blockBuilder assembles the argument checks of one syscall: the
// alternatives of its conditional rules in order, each a run of conditions
// ending in the rule's return, then the syscall's fallback return. An
// alternative compares each argument at most once, so it has at most
// maxArgs conditions of at most 6 instructions, and every jump in a block
// fits the 8-bit jt/jf fields.
type blockBuilder struct {
	code          []unix.SockFilter
	passes, fails []ref
}

func (b *blockBuilder) load(off uint32) { b.code = append(b.code, load(off)) }

func (b *blockBuilder) jump(op uint16, k uint32, t, f target) {
	at := len(b.code)
	b.code = append(b.code, jump(op, k, 0, 0))
	b.mark(at, true, t)
	b.mark(at, false, f)
}

func (b *blockBuilder) mark(at int, jt bool, t target) {
	switch t {
	case pass:
		b.passes = append(b.passes, ref{at, jt})
	case fail:
		b.fails = append(b.fails, ref{at, jt})
	}
}

// resolve points refs at the current end of the code.
func (b *blockBuilder) resolve(refs []ref) []ref {
	to := len(b.code)
	for _, r := range refs {
		off := uint8(to - r.at - 1)
		if r.jt {
			b.code[r.at].Jt = off
		} else {
			b.code[r.at].Jf = off
		}
	}
	return refs[:0]
}

// rule emits one alternative: if every cond holds, return ret; else fall
// through.
func (b *blockBuilder) rule(conds []cond, r uint32, arg32 bool) {
	for _, c := range conds {
		if arg32 {
			b.cond32(c)
		} else {
			b.cond64(c)
		}
		b.passes = b.resolve(b.passes)
	}
	b.code = append(b.code, ret(r))
	b.fails = b.resolve(b.fails)
}

// cond32 emits c for a 32-bit ABI, where fold32 has left only comparisons
// whose value (or, for masked, wanted value) has a zero high half.
func (b *blockBuilder) cond32(c cond) {
	lo, _ := argOffsets(c.index)
	v := uint32(c.value)
	b.load(lo)
	switch c.op {
	case cmpEQ:
		b.jump(opJeq, v, next, fail)
	case cmpNE:
		b.jump(opJeq, v, fail, next)
	case cmpGT:
		b.jump(opJgt, v, next, fail)
	case cmpGE:
		b.jump(opJge, v, next, fail)
	case cmpLT:
		b.jump(opJge, v, fail, next)
	case cmpLE:
		b.jump(opJgt, v, fail, next)
	case cmpMaskedEQ:
		if v != math.MaxUint32 {
			b.code = append(b.code, and(v))
		}
		b.jump(opJeq, uint32(c.valueTwo), next, fail)
	}
}

// cond64 emits c comparing both halves: the high halves decide unless they
// are equal, then the low halves do.
func (b *blockBuilder) cond64(c cond) {
	lo, hi := argOffsets(c.index)
	vlo, vhi := uint32(c.value), uint32(c.value>>32)
	switch c.op {
	case cmpEQ:
		b.load(hi)
		b.jump(opJeq, vhi, next, fail)
		b.load(lo)
		b.jump(opJeq, vlo, next, fail)
	case cmpNE:
		b.load(hi)
		b.jump(opJeq, vhi, next, pass)
		b.load(lo)
		b.jump(opJeq, vlo, fail, next)
	case cmpGE, cmpLT:
		if vlo == 0 { // the low half cannot matter: arg >= v is hi >= vhi
			b.load(hi)
			b.jumpHolds(opJge, vhi, c.op == cmpGE)
			return
		}
		b.ordered(c.op, lo, hi, vlo, vhi)
	case cmpGT, cmpLE:
		if vlo == math.MaxUint32 { // likewise: arg > v is hi > vhi
			b.load(hi)
			b.jumpHolds(opJgt, vhi, c.op == cmpGT)
			return
		}
		b.ordered(c.op, lo, hi, vlo, vhi)
	case cmpMaskedEQ:
		b.maskedHalf(hi, uint32(c.value>>32), uint32(c.valueTwo>>32))
		b.maskedHalf(lo, vlo, uint32(c.valueTwo))
	}
}

// jumpHolds emits a jump on which the condition holds when the jump is
// taken (taken) or when it is not (!taken).
func (b *blockBuilder) jumpHolds(op uint16, k uint32, taken bool) {
	if taken {
		b.jump(op, k, next, fail)
	} else {
		b.jump(op, k, fail, next)
	}
}

// ordered emits an unsigned 64-bit GT, GE, LT or LE.
func (b *blockBuilder) ordered(op cmpOp, lo, hi, vlo, vhi uint32) {
	switch op {
	case cmpGT, cmpGE:
		b.load(hi)
		if vhi != math.MaxUint32 {
			b.jump(opJgt, vhi, pass, next)
		}
		if vhi != 0 { // after hi <= vhi, hi == vhi is implied when vhi is 0
			b.jump(opJeq, vhi, next, fail)
		}
		b.load(lo)
		if op == cmpGT {
			b.jump(opJgt, vlo, next, fail)
		} else {
			b.jump(opJge, vlo, next, fail)
		}
	case cmpLT, cmpLE:
		b.load(hi)
		if vhi != 0 {
			b.jump(opJge, vhi, next, pass)
		}
		if vhi != math.MaxUint32 { // after hi >= vhi, hi == vhi is implied when vhi is max
			b.jump(opJeq, vhi, next, fail)
		}
		b.load(lo)
		if op == cmpLT {
			b.jump(opJge, vlo, fail, next)
		} else {
			b.jump(opJgt, vlo, fail, next)
		}
	}
}

// maskedHalf emits (half & mask) == want. A zero mask needs no code: fold
// has already made sure want is zero there.
func (b *blockBuilder) maskedHalf(off, mask, want uint32) {
	if mask == 0 {
		return
	}
	b.load(off)
	if mask != math.MaxUint32 {
		b.code = append(b.code, and(mask))
	}
	b.jump(opJeq, want, next, fail)
}
