package seccomp

import (
	"fmt"
	"math"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cmpOp is an argument comparison. All are unsigned, on 64-bit values.
type cmpOp uint8

const (
	cmpNE cmpOp = iota
	cmpLT
	cmpLE
	cmpEQ
	cmpGE
	cmpGT
	cmpMaskedEQ
)

var operators = [...]struct {
	name specs.LinuxSeccompOperator
	op   cmpOp
}{
	{specs.OpNotEqual, cmpNE},
	{specs.OpLessThan, cmpLT},
	{specs.OpLessEqual, cmpLE},
	{specs.OpEqualTo, cmpEQ},
	{specs.OpGreaterEqual, cmpGE},
	{specs.OpGreaterThan, cmpGT},
	{specs.OpMaskedEqual, cmpMaskedEQ},
}

// Operators returns the argument operator names Compile accepts.
func Operators() []string {
	out := make([]string, len(operators))
	for i, o := range operators {
		out[i] = string(o.name)
	}
	slices.Sort(out)
	return out
}

// cond is one argument comparison: args[index] op value. For cmpMaskedEQ it
// is (args[index] & value) == valueTwo, as in libseccomp and the spec.
type cond struct {
	index           uint32
	op              cmpOp
	value, valueTwo uint64
}

func parseCond(a specs.LinuxSeccompArg) (cond, error) {
	if a.Index >= maxArgs {
		return cond{}, fmt.Errorf("argument index %d out of range 0-%d", a.Index, maxArgs-1)
	}
	for _, o := range operators {
		if o.name == a.Op {
			return cond{index: uint32(a.Index), op: o.op, value: a.Value, valueTwo: a.ValueTwo}, nil
		}
	}
	return cond{}, fmt.Errorf("unknown operator %q for argument %d", a.Op, a.Index)
}

// truth is the outcome of a comparison known at compile time.
type truth int8

const (
	depends truth = iota // decided at run time
	always
	never
)

// fold decides c at compile time where its constants allow. On a 32-bit ABI
// the argument is its low half, zero-extended (see abi.arg32).
func (c cond) fold(arg32 bool) truth {
	if arg32 {
		return c.fold32()
	}
	switch c.op {
	case cmpGE:
		return whenTrue(c.value == 0)
	case cmpLT:
		return whenFalse(c.value == 0)
	case cmpGT:
		return whenFalse(c.value == math.MaxUint64)
	case cmpLE:
		return whenTrue(c.value == math.MaxUint64)
	case cmpMaskedEQ:
		return foldMasked(c.value, c.valueTwo)
	}
	return depends
}

func (c cond) fold32() truth {
	hi, lo := uint32(c.value>>32), uint32(c.value)
	switch c.op {
	case cmpEQ:
		return whenFalse(hi != 0)
	case cmpNE:
		return whenTrue(hi != 0)
	case cmpGT:
		return whenFalse(hi != 0 || lo == math.MaxUint32)
	case cmpGE:
		if hi != 0 {
			return never
		}
		return whenTrue(lo == 0)
	case cmpLT:
		if hi != 0 {
			return always
		}
		return whenFalse(lo == 0)
	case cmpLE:
		return whenTrue(hi != 0 || lo == math.MaxUint32)
	case cmpMaskedEQ:
		if c.valueTwo>>32 != 0 {
			return never
		}
		return foldMasked(c.value&math.MaxUint32, c.valueTwo)
	}
	return depends
}

// foldMasked decides (x & mask) == want where the constants allow.
func foldMasked(mask, want uint64) truth {
	if want&^mask != 0 {
		return never // want has a bit the mask clears
	}
	return whenTrue(mask == 0) // then want is 0 too
}

func whenTrue(b bool) truth {
	if b {
		return always
	}
	return depends
}

func whenFalse(b bool) truth {
	if b {
		return never
	}
	return depends
}

// argOffsets returns where the low and high 32-bit halves of args[i] sit in
// seccomp_data on a little-endian ABI.
func argOffsets(i uint32) (lo, hi uint32) {
	lo = offArgs + 8*i
	return lo, lo + 4
}
