package container

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/runtime/caps"
	"github.com/berth-dev/berth/runtime/seccomp"
	"github.com/berth-dev/berth/runtime/spec"
)

// The exec fast path: for a process that needs no terminal, label,
// personality or seccomp listener, the runtime compiles everything the
// process needs (capability masks, the seccomp program, rlimits, user,
// cwd, argv and env) into a blob, and nsexec's constructor, in C, applies
// it and execs the program right after joining the container: no Go
// runtime ever starts inside the container, and no config round trip is
// needed. The blob is one packet on the sync socket, written before the
// process starts:
//
//	"BEX1", then records: tag u32, length u32, payload (native byte order)
//
// Strings end in NUL. The tags and their payloads are listed with the
// constants below; execproc.c in runtime/nsexec reads them.
const (
	blobArg      = 1  // one argv string
	blobEnv      = 2  // one environment string
	blobCwd      = 3  // string
	blobUser     = 4  // uid u32, gid u32, additional gids u32...
	blobUmask    = 5  // u32
	blobRlimit   = 6  // resource u32, soft u64, hard u64
	blobCaps     = 7  // last cap u32, then bounding, effective, permitted, inheritable, ambient u64
	blobNoNewPri = 8  // empty: set no_new_privs
	blobSeccomp  = 9  // flags u32, then struct sock_filter[]
	blobPreserve = 10 // u32: fds 3..3+n-1 stay open
	blobOOMScore = 11 // string for /proc/self/oom_score_adj
)

// maxExecBlob keeps the blob within one sync packet (see maxPacket).
const maxExecBlob = maxPacket

type blobWriter struct {
	b []byte
	// seccomp is the seccomp record's payload: given compiled, or as
	// process compiled it.
	seccomp []byte
}

func (w *blobWriter) rec(tag uint32, payload []byte) {
	w.b = binary.NativeEndian.AppendUint32(w.b, tag)
	w.b = binary.NativeEndian.AppendUint32(w.b, uint32(len(payload)))
	w.b = append(w.b, payload...)
}

func (w *blobWriter) str(tag uint32, s string) {
	w.rec(tag, append([]byte(s), 0))
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

// fastExecOK reports whether nsexec can exec p in C, without Go's init.
func fastExecOK(p *specs.Process, s *specs.Spec) bool {
	if p.Terminal || p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		return false
	}
	if s.Linux == nil {
		return true
	}
	if s.Linux.Personality != nil {
		return false
	}
	return !seccompNeedsListener(s.Linux.Seccomp)
}

// seccompNeedsListener reports whether sc asks for a notify listener,
// whose fd init must send on: such a profile is loaded by Go's init.
func seccompNeedsListener(sc *specs.LinuxSeccomp) bool {
	if sc == nil {
		return false
	}
	if sc.ListenerPath != "" {
		return true
	}
	for _, r := range sc.Syscalls {
		if r.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// encodeExecBlob compiles p (running in a container of spec s) for nsexec.
// ok is false when the process needs Go's init (see fastExecOK) or the
// blob would not fit one packet.
func encodeExecBlob(p *specs.Process, s *specs.Spec, preserveFDs int) (blob []byte, ok bool, err error) {
	blob, _, ok, err = encodeExecBlobSeccomp(p, s, preserveFDs, nil)
	return blob, ok, err
}

// encodeExecBlobSeccomp is encodeExecBlob with the seccomp record's
// payload (flags, then the program) compiled already when bpf is not nil,
// in place of s.Linux.Seccomp. It returns the payload it used.
func encodeExecBlobSeccomp(p *specs.Process, s *specs.Spec, preserveFDs int, bpf []byte) (blob, seccompRec []byte, ok bool, err error) {
	if !fastExecOK(p, s) {
		return nil, nil, false, nil
	}
	w := &blobWriter{b: []byte("BEX1"), seccomp: bpf}
	if err := w.process(p, s, preserveFDs); err != nil {
		return nil, nil, false, err
	}
	if len(w.b) > maxExecBlob {
		return nil, nil, false, nil
	}
	return w.b, w.seccomp, true, nil
}

// process appends the records of p, in a container of spec s.
func (w *blobWriter) process(p *specs.Process, s *specs.Spec, preserveFDs int) error {
	for _, a := range p.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("process.args holds a NUL byte")
		}
	}
	for _, e := range p.Env {
		if strings.IndexByte(e, 0) >= 0 {
			return fmt.Errorf("process.env holds a NUL byte")
		}
	}
	if strings.IndexByte(p.Cwd, 0) >= 0 {
		return fmt.Errorf("process.cwd holds a NUL byte")
	}
	for _, a := range p.Args {
		w.str(blobArg, a)
	}
	for _, e := range p.Env {
		w.str(blobEnv, e)
	}
	w.str(blobCwd, p.Cwd)
	w.rec(blobUser, u32s(append([]uint32{p.User.UID, p.User.GID}, p.User.AdditionalGids...)...))
	umask := uint32(0o022)
	if p.User.Umask != nil {
		umask = *p.User.Umask
	}
	w.rec(blobUmask, u32s(umask))
	for _, r := range p.Rlimits {
		res, known := spec.RlimitResource(r.Type)
		if !known {
			return fmt.Errorf("unknown rlimit %s", r.Type)
		}
		b := u32s(uint32(res))
		b = binary.NativeEndian.AppendUint64(b, r.Soft)
		b = binary.NativeEndian.AppendUint64(b, r.Hard)
		w.rec(blobRlimit, b)
	}
	cs, _, err := caps.New(p.Capabilities)
	if err != nil {
		return err
	}
	last, sets, err := cs.Masks()
	if err != nil {
		return err
	}
	b := u32s(last)
	for _, m := range sets {
		b = binary.NativeEndian.AppendUint64(b, m)
	}
	w.rec(blobCaps, b)
	if p.NoNewPrivileges {
		w.rec(blobNoNewPri, nil)
	}
	if w.seccomp == nil && s.Linux != nil && s.Linux.Seccomp != nil {
		prog, flags, err := seccomp.Filter(s.Linux.Seccomp)
		if err != nil {
			return fmt.Errorf("seccomp: %w", err)
		}
		b := u32s(uint32(flags))
		for _, in := range prog {
			b = binary.NativeEndian.AppendUint16(b, in.Code)
			b = append(b, in.Jt, in.Jf)
			b = binary.NativeEndian.AppendUint32(b, in.K)
		}
		w.seccomp = b
	}
	if w.seccomp != nil {
		w.rec(blobSeccomp, w.seccomp)
	}
	w.rec(blobPreserve, u32s(uint32(preserveFDs)))
	if p.OOMScoreAdj != nil {
		w.str(blobOOMScore, strconv.Itoa(*p.OOMScoreAdj))
	}
	return nil
}
