package container

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"web", true}, {"a_b-c.d+e", true}, {"ABC123", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"../x", false},
		{"a b", false}, {"a\x00b", false}, {"é", false},
	} {
		if err := ValidateID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	o, err := parseMountOptions([]string{"ro", "nosuid", "rw", "rprivate", "rro", "mode=755", "size=1m"})
	if err != nil {
		t.Fatal(err)
	}
	if o.flags&0x1 != 0 { // MS_RDONLY cleared by the later "rw"
		t.Errorf("got flags %#x, want MS_RDONLY cleared", o.flags)
	}
	if got, want := o.dataString(), "mode=755,size=1m"; got != want {
		t.Errorf("got data %q, want %q", got, want)
	}
	if len(o.propagation) != 1 || o.attr.set == 0 {
		t.Errorf("got propagation %v attr %+v, want one propagation and a recursive attribute", o.propagation, o.attr)
	}
	if _, err := parseMountOptions([]string{"idmap"}); err == nil {
		t.Error("idmap: got no error, want a clear not-supported error")
	}
}

func FuzzParseMountOptions(f *testing.F) {
	f.Add("ro,nosuid,rbind,rprivate,mode=755")
	f.Add("rro,rnoatime,tmpcopyup,size=1m")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var opts []string
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == ',' {
				opts = append(opts, s[start:i])
				start = i + 1
			}
		}
		parseMountOptions(opts) // must not panic
	})
}

func TestLoadForExec(t *testing.T) {
	root := t.TempDir()
	c := &Container{
		ID: "x", InitPid: 42, InitStart: 7, Bundle: "/b", CgroupPaths: map[string]string{"freezer": "/sys/fs/cgroup/freezer/x"},
		Spec: &specs.Spec{
			Hostname: "h", Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"},
			Linux: &specs.Linux{
				Namespaces:  []specs.LinuxNamespace{{Type: specs.PIDNamespace}},
				Seccomp:     &specs.LinuxSeccomp{DefaultAction: specs.ActAllow},
				Personality: &specs.LinuxPersonality{Domain: specs.PerLinux},
				Sysctl:      map[string]string{"a": "b"},
			},
		},
		dir: filepath.Join(root, "x"),
	}
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadForExec(root, "x")
	if err != nil {
		t.Fatalf("LoadForExec: %v", err)
	}
	if got.InitPid != 42 || got.InitStart != 7 || got.Bundle != "/b" || got.Dir() != c.dir || got.CgroupPaths["freezer"] != c.CgroupPaths["freezer"] {
		t.Errorf("got %+v, want the saved state", got)
	}
	l := got.Spec.Linux
	if l.Seccomp != nil || got.seccompJSON == nil {
		t.Errorf("got linux.seccomp %+v decoded, want it left for execSeccomp", l.Seccomp)
	}
	if err := got.decodeSeccomp(); err != nil {
		t.Fatalf("decode seccomp: %v", err)
	}
	if got.Spec.Process.Args[0] != "sh" || len(l.Namespaces) != 1 || l.Seccomp == nil || l.Personality == nil {
		t.Errorf("got spec %+v, want process, namespaces, seccomp and personality", got.Spec)
	}
	if got.Spec.Hostname != "" || l.Sysctl != nil {
		t.Errorf("got hostname %q, sysctl %v; want only what exec reads", got.Spec.Hostname, l.Sysctl)
	}
	if _, err := LoadForExec(root, "missing"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing container: got %v, want ErrNotFound", err)
	}
}
