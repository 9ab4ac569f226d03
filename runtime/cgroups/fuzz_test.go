package cgroups

import (
	"path"
	"strings"
	"testing"
)

// cgroupsPath comes from an untrusted config.json: whatever it is, the
// resolved directory stays inside the hierarchy (and, when relative, inside
// the runtime's own cgroup).
func FuzzCgroupPath(f *testing.F) {
	for _, s := range []string{"/a/b", "a/b", "", "../../x", "/../..", "system.slice:docker:abc", "a-b.slice:p:n", "x:y:z", "/a/./b/../c", "a\x00b"} {
		f.Add(s, "ctr")
	}
	f.Fuzz(func(t *testing.T, p, id string) {
		cg, rel, err := cgroupPath(p, id)
		if err != nil {
			return
		}
		for _, elem := range strings.Split(cg, "/") {
			if elem == ".." {
				t.Fatalf("cgroupPath(%q): got %q with a .. element", p, cg)
			}
		}
		own := "/own/cgroup"
		dir := hierarchyDir(mount{dir: "/mnt", root: "/"}, cg, rel, own)
		want := "/mnt/"
		if rel {
			want = "/mnt" + own + "/"
		}
		if !strings.HasPrefix(dir, want) || path.Clean(dir) != dir {
			t.Fatalf("cgroupPath(%q) = %q (relative %v): got dir %q, want a clean path below %s", p, cg, rel, dir, want)
		}
	})
}

// Device rules come from config.json too: any list compiles to a program
// the verifier would accept and that means what the rules mean, and the v1
// form, when v1 can express the list, means the same.
func FuzzDeviceRules(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0xf7, 2, 1, 1, 0x07})
	f.Add([]byte{2, 1, 0, 0x0f, 2, 1, 1, 0x04, 1, 0, 0, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		var rules []devRule
		for i := 0; i+4 <= len(data) && len(rules) < 12; i += 4 {
			rules = append(rules, devRule{
				typ:   "abc"[int(data[i])%3],
				major: []int64{-1, 1, 5}[int(data[i+1])%3],
				minor: []int64{-1, 3, 5}[int(data[i+2])%3],
				acc:   1 + data[i+3]%accAll,
				allow: data[i+3]&0x80 != 0,
			})
		}
		prog, err := deviceFilter(rules)
		if err != nil {
			t.Fatal(err)
		}
		v, v1err := toV1Devices(rules)
		var k v1Kernel
		if v1err == nil {
			k.apply(t, v)
		}
		forGrid(func(typ byte, major, minor int64, acc uint8) {
			want := allowedByRules(rules, typ, major, minor, acc)
			if got := runFilter(t, prog, typ, major, minor, acc) == 1; got != want {
				t.Fatalf("rules %v: bpf: %c %d:%d acc %d: got %v, want %v", rules, typ, major, minor, acc, got, want)
			}
			if v1err == nil && k.allowed(typ, major, minor, acc) != want {
				t.Fatalf("rules %v: v1 %+v: %c %d:%d acc %d: got %v, want %v", rules, v, typ, major, minor, acc, !want, want)
			}
		})
	})
}
