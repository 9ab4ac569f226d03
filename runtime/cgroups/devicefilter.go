package cgroups

import (
	"encoding/binary"
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// insn is one eBPF instruction, laid out as the kernel's struct bpf_insn.
type insn struct {
	code uint8
	regs uint8 // dst in the low nibble, src in the high one
	off  int16
	imm  int32
}

// Opcodes of the small instruction subset the filter uses.
const (
	opLdxW   = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W   // dst = *(u32 *)(src + off)
	opMovImm = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K // dst = imm
	opMovReg = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_X // dst = src
	opAndImm = unix.BPF_ALU64 | unix.BPF_AND | unix.BPF_K // dst &= imm
	opRshImm = unix.BPF_ALU64 | unix.BPF_RSH | unix.BPF_K // dst >>= imm
	opJeqImm = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K   // if dst == imm goto +off
	opJneImm = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K   // if dst != imm goto +off
	opJa     = unix.BPF_JMP | unix.BPF_JA                 // goto +off
	opExit   = unix.BPF_JMP | unix.BPF_EXIT               // return r0
)

// Registers. The program's context (r1) is struct bpf_cgroup_dev_ctx
// { u32 access_type; u32 major; u32 minor; } where access_type is
// (access << 16) | device type.
const (
	r0 = iota // return value, scratch
	r1        // context
	r2        // access_type
	r3        // device type: BPF_DEVCG_DEV_BLOCK (1) or _CHAR (2)
	r4        // requested access bits
	r5        // major
	r6        // minor
)

// deviceFilter compiles the rule list into a BPF_PROG_TYPE_CGROUP_DEVICE
// program that returns 1 (allow) or 0 (deny). For each access bit the
// request asks for, it walks the rules holding that bit from last to first
// and lets the first match decide; no match denies:
//
//	load type, access, major, minor
//	for bit in m, r, w:            (sections that always allow are left out)
//	    if access & bit == 0: next section
//	    for rule in rules with bit, last first:
//	        if rule matches: allow → next section, deny → deny
//	    deny
//	return 1
//	deny: return 0
//
// Rules never reached (before an unconditional one) and denies at the end of
// a walk (same as no match) are dropped, and so is any code the kernel's
// verifier would reject as unreachable.
func deviceFilter(rules []devRule) ([]insn, error) {
	var a asm
	deny := a.label()
	a.emit(insn{code: opLdxW, regs: r2 | r1<<4, off: 0})
	a.emit(insn{code: opMovReg, regs: r3 | r2<<4})
	a.emit(insn{code: opAndImm, regs: r3, imm: 0xffff})
	a.emit(insn{code: opMovReg, regs: r4 | r2<<4})
	a.emit(insn{code: opRshImm, regs: r4, imm: 16})
	a.emit(insn{code: opLdxW, regs: r5 | r1<<4, off: 4})
	a.emit(insn{code: opLdxW, regs: r6 | r1<<4, off: 8})
	for _, bit := range []uint8{accMknod, accRead, accWrite} {
		walk := rulesFor(rules, bit)
		if len(walk) == 1 && walk[0].any() && walk[0].allow {
			continue // this access is always allowed
		}
		next := a.label()
		a.emit(insn{code: opMovReg, regs: r0 | r4<<4})
		a.emit(insn{code: opAndImm, regs: r0, imm: int32(bit)})
		a.jump(opJeqImm, r0, 0, next)
		last := false
		for _, r := range walk {
			skip := a.label()
			if r.typ != 'a' {
				t := int32(unix.BPF_DEVCG_DEV_CHAR)
				if r.typ == 'b' {
					t = unix.BPF_DEVCG_DEV_BLOCK
				}
				a.jump(opJneImm, r3, t, skip)
			}
			if r.major != -1 {
				a.jump(opJneImm, r5, int32(r.major), skip)
			}
			if r.minor != -1 {
				a.jump(opJneImm, r6, int32(r.minor), skip)
			}
			if r.allow {
				a.jump(opJa, 0, 0, next)
			} else {
				a.jump(opJa, 0, 0, deny)
			}
			a.place(skip)
			last = r.any()
		}
		if !last {
			a.jump(opJa, 0, 0, deny)
		}
		a.place(next)
	}
	a.emit(insn{code: opMovImm, regs: r0, imm: 1})
	a.emit(insn{code: opExit})
	if a.used(deny) {
		a.place(deny)
		a.emit(insn{code: opMovImm, regs: r0, imm: 0})
		a.emit(insn{code: opExit})
	}
	return a.finish()
}

// rulesFor lists the rules holding bit in evaluation order (last first),
// cut after the first one matching every device and with trailing denies
// dropped, since falling off the end denies anyway.
func rulesFor(rules []devRule, bit uint8) []devRule {
	var walk []devRule
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if r.acc&bit == 0 {
			continue
		}
		walk = append(walk, r)
		if r.any() {
			break
		}
	}
	for len(walk) > 0 && !walk[len(walk)-1].allow {
		walk = walk[:len(walk)-1]
	}
	return walk
}

// asm places instructions and resolves forward jumps to labels.
type asm struct {
	prog   []insn
	labels []int // label → pc, -1 until placed
	refs   []int // label → number of jumps to it
	fixups [][2]int
}

func (a *asm) label() int {
	a.labels = append(a.labels, -1)
	a.refs = append(a.refs, 0)
	return len(a.labels) - 1
}

func (a *asm) place(l int)     { a.labels[l] = len(a.prog) }
func (a *asm) used(l int) bool { return a.refs[l] > 0 }
func (a *asm) emit(i insn)     { a.prog = append(a.prog, i) }

func (a *asm) jump(code uint8, reg uint8, imm int32, l int) {
	a.fixups = append(a.fixups, [2]int{len(a.prog), l})
	a.refs[l]++
	a.emit(insn{code: code, regs: reg, imm: imm})
}

func (a *asm) finish() ([]insn, error) {
	for _, f := range a.fixups {
		pc, target := f[0], a.labels[f[1]]
		off := target - pc - 1
		if target < 0 || off < 0 || off > math.MaxInt16 {
			return nil, fmt.Errorf("device filter: jump from %d to %d out of range", pc, target)
		}
		a.prog[pc].off = int16(off)
	}
	return a.prog, nil
}

// encode lays the program out as the kernel reads it.
func encode(prog []insn) []byte {
	b := make([]byte, 8*len(prog))
	for i, in := range prog {
		b[8*i] = in.code
		b[8*i+1] = in.regs
		binary.LittleEndian.PutUint16(b[8*i+2:], uint16(in.off))
		binary.LittleEndian.PutUint32(b[8*i+4:], uint32(in.imm))
	}
	return b
}
