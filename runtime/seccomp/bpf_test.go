package seccomp

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// seccompData is the input of a filter run, struct seccomp_data.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	binary.LittleEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// check makes the static checks the kernel makes before accepting a
// seccomp program (bpf_check_classic and seccomp_check_filter), for the
// instructions this package emits.
func check(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return fmt.Errorf("program length %d", len(prog))
	}
	for pc, in := range prog {
		switch in.Code {
		case opLoad:
			if in.K >= 64 || in.K%4 != 0 {
				return fmt.Errorf("insn %d: load from offset %d", pc, in.K)
			}
		case opRet, opAnd:
		case opJa:
			if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
				return fmt.Errorf("insn %d: ja %d out of the program", pc, in.K)
			}
		case opJeq, opJgt, opJge:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("insn %d: jump %d/%d out of the program", pc, in.Jt, in.Jf)
			}
		default:
			return fmt.Errorf("insn %d: opcode %#x not emitted by this package", pc, in.Code)
		}
	}
	if prog[len(prog)-1].Code != opRet {
		return fmt.Errorf("last insn is %#x, not ret", prog[len(prog)-1].Code)
	}
	return nil
}

// run interprets prog on d as the kernel would and returns the filter's
// result. It counts the instructions executed in *steps when steps is set.
func run(prog []unix.SockFilter, d seccompData, steps *int) (uint32, error) {
	data := d.bytes()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		if steps != nil {
			*steps++
		}
		in := prog[pc]
		switch in.Code {
		case opLoad:
			if in.K+4 > uint32(len(data)) {
				return 0, fmt.Errorf("insn %d: load past seccomp_data", pc)
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case opAnd:
			a &= in.K
		case opRet:
			return in.K, nil
		case opJa:
			pc += int(in.K)
		case opJeq, opJgt, opJge:
			var taken bool
			switch in.Code {
			case opJeq:
				taken = a == in.K
			case opJgt:
				taken = a > in.K
			default:
				taken = a >= in.K
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, fmt.Errorf("insn %d: unknown opcode %#x", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("ran off the end of the program")
}

// disassemble renders prog one instruction a line, jump targets absolute.
func disassemble(prog []unix.SockFilter) string {
	var b strings.Builder
	for pc, in := range prog {
		fmt.Fprintf(&b, "%04d  ", pc)
		switch in.Code {
		case opLoad:
			fmt.Fprintf(&b, "ld   [%d]", in.K)
		case opAnd:
			fmt.Fprintf(&b, "and  #%#x", in.K)
		case opRet:
			fmt.Fprintf(&b, "ret  %s", retString(in.K))
		case opJa:
			fmt.Fprintf(&b, "ja   %04d", pc+1+int(in.K))
		case opJeq, opJgt, opJge:
			name := map[uint16]string{opJeq: "jeq", opJgt: "jgt", opJge: "jge"}[in.Code]
			fmt.Fprintf(&b, "%-4s #%#x, %04d, %04d", name, in.K, pc+1+int(in.Jt), pc+1+int(in.Jf))
		default:
			fmt.Fprintf(&b, "op   %#x jt %d jf %d k %#x", in.Code, in.Jt, in.Jf, in.K)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
