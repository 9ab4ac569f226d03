package seccomp

import "golang.org/x/sys/unix"

// Offsets into struct seccomp_data (<linux/seccomp.h>):
//
//	struct seccomp_data {
//		int   nr;                  //  0
//		__u32 arch;                //  4
//		__u64 instruction_pointer; //  8
//		__u64 args[6];             // 16
//	};
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
	maxArgs = 6
)

// maxJump is the longest forward jump a conditional classic-BPF jump can
// encode in its 8-bit jt/jf fields.
const maxJump = 255

const (
	opLoad = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opRet  = unix.BPF_RET | unix.BPF_K
	opAnd  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opJa   = unix.BPF_JMP | unix.BPF_JA
	opJeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgt  = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
)

func load(off uint32) unix.SockFilter   { return unix.SockFilter{Code: opLoad, K: off} }
func ret(k uint32) unix.SockFilter      { return unix.SockFilter{Code: opRet, K: k} }
func and(k uint32) unix.SockFilter      { return unix.SockFilter{Code: opAnd, K: k} }
func jumpTo(off uint32) unix.SockFilter { return unix.SockFilter{Code: opJa, K: off} }

func jump(op uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: op, K: k, Jt: jt, Jf: jf}
}
