package container

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestFastExecOK(t *testing.T) {
	linux := func(f func(*specs.Linux)) *specs.Spec {
		s := &specs.Spec{Linux: &specs.Linux{}}
		f(s.Linux)
		return s
	}
	for _, tc := range []struct {
		name string
		p    specs.Process
		s    *specs.Spec
		want bool
	}{
		{"plain", specs.Process{}, linux(func(*specs.Linux) {}), true},
		{"terminal", specs.Process{Terminal: true}, linux(func(*specs.Linux) {}), false},
		{"apparmor", specs.Process{ApparmorProfile: "p"}, linux(func(*specs.Linux) {}), false},
		{"selinux", specs.Process{SelinuxLabel: "l"}, linux(func(*specs.Linux) {}), false},
		{"personality", specs.Process{}, linux(func(l *specs.Linux) { l.Personality = &specs.LinuxPersonality{} }), false},
		{"seccomp", specs.Process{}, linux(func(l *specs.Linux) { l.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow} }), true},
		{"seccomp listener", specs.Process{}, linux(func(l *specs.Linux) {
			l.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x"}
		}), false},
		{"seccomp notify", specs.Process{}, linux(func(l *specs.Linux) {
			l.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
		}), false},
	} {
		if got := fastExecOK(&tc.p, tc.s); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// records walks a blob as execproc.c does.
func records(t *testing.T, b []byte) map[uint32][][]byte {
	t.Helper()
	if string(b[:4]) != "BEX1" {
		t.Fatalf("got magic %q, want BEX1", b[:4])
	}
	out := map[uint32][][]byte{}
	for off := 4; off < len(b); {
		if len(b)-off < 8 {
			t.Fatalf("truncated record header at %d", off)
		}
		tag, n := binary.NativeEndian.Uint32(b[off:]), int(binary.NativeEndian.Uint32(b[off+4:]))
		off += 8
		if n > len(b)-off {
			t.Fatalf("record %d of %d bytes overruns the blob", tag, n)
		}
		out[tag] = append(out[tag], b[off:off+n])
		off += n
	}
	return out
}

func TestEncodeExecBlob(t *testing.T) {
	oom := 5
	p := &specs.Process{
		Args: []string{"/bin/sh", "-c", "true"}, Env: []string{"A=1"}, Cwd: "/w",
		User:            specs.User{UID: 7, GID: 8, AdditionalGids: []uint32{9}},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}},
		NoNewPrivileges: true, OOMScoreAdj: &oom,
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
	}
	s := &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64}}}}
	blob, ok, err := encodeExecBlob(p, s, 2)
	if err != nil || !ok {
		t.Fatalf("encode: got ok %v, err %v; want ok", ok, err)
	}
	r := records(t, blob)
	for _, tc := range []struct {
		tag  uint32
		n    int
		want string // first record, for strings
	}{
		{blobArg, 3, "/bin/sh\x00"}, {blobEnv, 1, "A=1\x00"}, {blobCwd, 1, "/w\x00"}, {blobUser, 1, ""},
		{blobUmask, 1, ""}, {blobRlimit, 1, ""}, {blobCaps, 1, ""}, {blobNoNewPri, 1, ""},
		{blobSeccomp, 1, ""}, {blobPreserve, 1, ""}, {blobOOMScore, 1, "5\x00"},
	} {
		if got := len(r[tc.tag]); got != tc.n {
			t.Errorf("tag %d: got %d records, want %d", tc.tag, got, tc.n)
			continue
		}
		if tc.want != "" && string(r[tc.tag][0]) != tc.want {
			t.Errorf("tag %d: got %q, want %q", tc.tag, r[tc.tag][0], tc.want)
		}
	}
	if u := r[blobUser][0]; len(u) != 12 || binary.NativeEndian.Uint32(u) != 7 || binary.NativeEndian.Uint32(u[8:]) != 9 {
		t.Errorf("user record: got %v, want uid 7, gid 8, group 9", u)
	}
	if c := r[blobCaps][0]; len(c) != 44 || binary.NativeEndian.Uint64(c[4:]) != 1<<5 || binary.NativeEndian.Uint64(c[20:]) != 0 {
		t.Errorf("caps record: got %v, want bounding CAP_KILL only and no permitted", c)
	}
	if sc := r[blobSeccomp][0]; (len(sc)-4)%8 != 0 || len(sc) < 12 {
		t.Errorf("seccomp record: got %d bytes, want flags and whole instructions", len(sc))
	}
	if _, _, err := encodeExecBlob(&specs.Process{Args: []string{"a\x00b"}, Cwd: "/"}, s, 0); err == nil {
		t.Errorf("args with NUL: got no error, want one")
	}
}

func TestPrecompileSeccomp(t *testing.T) {
	allow := func(listener string) *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64}, ListenerPath: listener,
		}}}
	}
	s := allow("")
	out, c, err := precompileSeccomp(s)
	if err != nil {
		t.Fatalf("precompile: %v", err)
	}
	if c == nil || len(c.Prog) == 0 || len(c.Prog)%8 != 0 {
		t.Errorf("got program %+v, want whole instructions", c)
	}
	if out.Linux.Seccomp != nil || s.Linux.Seccomp == nil {
		t.Errorf("got init spec seccomp %v, original %v; want it only in the original", out.Linux.Seccomp, s.Linux.Seccomp)
	}
	s = allow("/run/agent.sock")
	if out, c, err := precompileSeccomp(s); err != nil || c != nil || out != s {
		t.Errorf("listener profile: got %v, %+v, %v; want the spec as is", out == s, c, err)
	}
	s = &specs.Spec{Linux: &specs.Linux{}}
	if out, c, err := precompileSeccomp(s); err != nil || c != nil || out != s {
		t.Errorf("no seccomp: got %v, %+v, %v; want the spec as is", out == s, c, err)
	}
}
