package nsexec

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

// Tags of initplan.h and execblob.go, for building plans by hand.
const (
	tArg      = 1
	tEnv      = 2
	tCwd      = 3
	tUser     = 4
	tSeccomp  = 9
	pHostMnt  = 32
	opMount   = 36
	opPivot   = 40
	opSymlink = 38
)

type plan struct{ b []byte }

func newPlan() *plan { return &plan{b: []byte("BIN1")} }

func (p *plan) rec(tag uint32, payload []byte) *plan {
	p.b = binary.NativeEndian.AppendUint32(p.b, tag)
	p.b = binary.NativeEndian.AppendUint32(p.b, uint32(len(payload)))
	p.b = append(p.b, payload...)
	return p
}

func (p *plan) str(tag uint32, s string) *plan { return p.rec(tag, append([]byte(s), 0)) }

func (p *plan) op(tag uint32, ints []uint64, strs ...string) *plan {
	b := binary.NativeEndian.AppendUint32(nil, uint32(len(ints)))
	b = binary.NativeEndian.AppendUint32(b, uint32(len(strs)))
	for _, v := range ints {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	for _, s := range strs {
		b = append(append(b, s...), 0)
	}
	return p.rec(tag, b)
}

// valid is a small plan the decoder accepts: 3 ops, 2 args, 1 env.
func valid() *plan {
	return newPlan().
		op(pHostMnt, []uint64{1, 2}).
		op(opMount, []uint64{1, 0, 0, 0, 0, 0, 1, 1, 0x40000}, "/proc", "proc", "proc", "", "mount /proc", "mount proc", "", "").
		op(opSymlink, []uint64{0}, "/dev", "fd", "/proc/self/fd", "symlink /dev/fd").
		op(opPivot, []uint64{0}, "/rootfs").
		str(tArg, "/bin/true").str(tArg, "-x").str(tEnv, "A=1").str(tCwd, "/").
		rec(tUser, make([]byte, 12))
}

func TestDecodePlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		blob []byte
		want planSummary
		err  string
	}{
		{"valid", valid().b, planSummary{ops: 3, args: 2, env: 1}, ""},
		{"empty", nil, planSummary{}, "not an init plan"},
		{"exec blob", []byte("BEX1"), planSummary{}, "not an init plan"},
		{"no host mount namespace", newPlan().str(tArg, "a").str(tCwd, "/").b, planSummary{}, "no mount namespace of the runtime"},
		{"no args", newPlan().op(pHostMnt, []uint64{1, 2}).str(tCwd, "/").b, planSummary{}, "no args or cwd"},
		{"truncated header", append(valid().b, 1, 0, 0), planSummary{}, "truncated record"},
		{"length past the end", valid().b[:len(valid().b)-1], planSummary{}, "truncated record"},
		{"unknown tag", valid().rec(99, nil).b, planSummary{}, "unknown record"},
		{"op of the wrong shape", valid().op(opPivot, nil, "/r").b, planSummary{}, "op of the wrong shape"},
		{"string without NUL", valid().rec(opPivot, append(append(binary.NativeEndian.AppendUint32(
			binary.NativeEndian.AppendUint32(nil, 1), 1), make([]byte, 8)...), 'x')).b, planSummary{}, "unterminated string in op"},
		{"trailing bytes", valid().rec(opPivot, append(append(binary.NativeEndian.AppendUint32(
			binary.NativeEndian.AppendUint32(nil, 1), 1), make([]byte, 8)...), 'x', 0, 'y')).b, planSummary{}, "trailing bytes in op"},
		{"propagation count lies", valid().op(opMount, []uint64{1, 0, 0, 0, 0, 0, 0, 5}, "", "", "", "", "", "", "", "").b, planSummary{}, "bad propagation list in mount op"},
		{"NUL inside an arg", valid().rec(tArg, []byte("a\x00b\x00")).b, planSummary{}, "bad string"},
		{"seccomp of no instructions", valid().rec(tSeccomp, make([]byte, 4)).b, planSummary{}, "bad seccomp program"},
		{"user twice", valid().rec(tUser, make([]byte, 8)).b, planSummary{}, "bad user"},
	} {
		got, err := decodePlan(tc.blob)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// FuzzDecodePlan feeds the constructor's C decoder hostile plans: it must
// answer with an error or a summary, never crash or exit.
func FuzzDecodePlan(f *testing.F) {
	f.Add(valid().b)
	f.Add([]byte("BIN1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodePlan(b)
		if err == nil && (s.ops < 0 || s.args < 1) {
			t.Fatalf("accepted a plan without args: %+v", s)
		}
	})
}

func TestCleanPath(t *testing.T) {
	for _, p := range []string{
		"", "/", ".", "..", "/..", "a", "/a/b", "a//b/", "/a/./b/.", "/a/bc/../d", "/a/b/..", "/a/b/../..",
		"/a/b/../../..", "../../x", "/aaa/../b/..", "/a/bb/../c/..", "/proc/self/../1", "x/../../y/./z/..",
	} {
		got, ok := cleanPath(p)
		if want := filepath.Clean("/" + p); !ok || got != want {
			t.Errorf("clean %q: got %q (%v), want %q", p, got, ok, want)
		}
	}
}

// FuzzCleanPath holds the C path cleaning to filepath.Clean("/" + p),
// which inroot.go resolves with.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a/b/../c", "../..", "a/./b//c/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if strings.IndexByte(p, 0) >= 0 || len(p) > 3000 {
			return
		}
		got, ok := cleanPath(p)
		if want := filepath.Clean("/" + p); !ok || got != want {
			t.Fatalf("clean %q: got %q (%v), want %q", p, got, ok, want)
		}
	})
}
