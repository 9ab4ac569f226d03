package image

import "testing"

func TestParseReference(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in, name, familiar string
	}{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"user/app:v1", "docker.io/user/app:v1", "user/app:v1"},
		{"localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"},
		{"127.0.0.1:5000/a/b/c:V1", "127.0.0.1:5000/a/b/c:V1", "127.0.0.1:5000/a/b/c:V1"},
		{"busybox@" + d, "docker.io/library/busybox@" + d, "busybox@" + d},
		{"[::1]:5000/a", "[::1]:5000/a:latest", "[::1]:5000/a:latest"},
		{"busybox:1.36@" + d, "docker.io/library/busybox@" + d, "busybox:1.36@" + d},
		{"Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest"},
	} {
		r, err := ParseReference(tc.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tc.in, err)
			continue
		}
		if r.Name() != tc.name || r.Familiar() != tc.familiar {
			t.Errorf("ParseReference(%q): got name %q familiar %q, want %q and %q", tc.in, r.Name(), r.Familiar(), tc.name, tc.familiar)
		}
	}
	for _, bad := range []string{"", " busybox", "BusyBox", "busybox:", "busybox@sha256:12", "a//b", "-x", "busybox:tag with space", "x/../y", "a/B", "a__-b", "host:/a", "[::1]:5000/a:b:c", "[zz]/a"} {
		if r, err := ParseReference(bad); err == nil {
			t.Errorf("ParseReference(%q): got %q, want an error", bad, r)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"busybox", "localhost:5000/a:b", "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		// A normalised reference parses to itself.
		again, err := ParseReference(r.String())
		if err != nil || again.Name() != r.Name() {
			t.Fatalf("ParseReference(%q) = %q, which parses to %q, %v", s, r.String(), again.Name(), err)
		}
	})
}
