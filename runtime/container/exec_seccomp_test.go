package container

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExecSeccompKept(t *testing.T) {
	profile := []byte(`{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"]}`)
	rec := append([]byte{0, 0, 0, 0}, make([]byte, 16)...) // flags, two instructions
	load := func(dir string) *Container {
		return &Container{ID: "c", dir: dir, Spec: &specs.Spec{Linux: &specs.Linux{}}, seccompJSON: profile}
	}
	plain := &specs.Process{Args: []string{"true"}, Cwd: "/"}
	tty := &specs.Process{Args: []string{"sh"}, Cwd: "/", Terminal: true}
	tests := []struct {
		name    string
		file    []byte // exec-seccomp.bpf's program; nil for none
		keptFor []byte // the profile it was compiled from; nil for the container's
		p       *specs.Process
		wantBPF bool // the kept program, Spec.Linux.Seccomp left undecoded
	}{
		{"none kept", nil, nil, plain, false},
		{"kept", rec, nil, plain, true},
		{"kept, but Go's init runs a terminal exec", rec, nil, tty, false},
		{"torn file", rec[:7], nil, plain, false},
		{"kept for another profile", rec, []byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), plain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != nil {
				sum := sha256.Sum256(profile)
				if tc.keptFor != nil {
					sum = sha256.Sum256(tc.keptFor)
				}
				if err := os.WriteFile(filepath.Join(dir, execSeccompFile), append(sum[:], tc.file...), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c := load(dir)
			bpf, err := c.execSeccomp(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := bpf != nil; got != tc.wantBPF {
				t.Errorf("got kept program %v, want %v", got, tc.wantBPF)
			}
			if got := c.Spec.Linux.Seccomp != nil; got == tc.wantBPF {
				t.Errorf("got linux.seccomp decoded %v, want %v", got, !tc.wantBPF)
			}
		})
	}
	// What one exec keeps, the next one reads.
	dir := t.TempDir()
	load(dir).keepExecSeccomp(profile, rec)
	if got, _ := load(dir).execSeccomp(plain); !bytes.Equal(got, rec) {
		t.Errorf("got kept program %x, want %x", got, rec)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) != 0 {
		t.Errorf("got temporary files %v left, want none", left)
	}
}
