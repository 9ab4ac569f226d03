package exchange

import "testing"

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, full string
	}{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
		{"docker.io/team/app:v1", "docker.io/team/app:v1"},
		{"localhost/app", "localhost/app:latest"},
		{"localhost:5000/a/b/c:x", "localhost:5000/a/b/c:x"},
		{"[::1]:5000/app:1", "[::1]:5000/app:1"},
		{"quay.io/a_b/c-d__e.f:T-1", "quay.io/a_b/c-d__e.f:T-1"},
		{"app@sha256:" + sixtyFour, "docker.io/library/app@sha256:" + sixtyFour},
	}
	for _, tt := range tests {
		r, err := parseRef(tt.in)
		if err != nil {
			t.Errorf("parseRef(%q): %v", tt.in, err)
			continue
		}
		if r.String() != tt.full {
			t.Errorf("parseRef(%q): got %s, want %s", tt.in, r, tt.full)
		}
	}
	for _, bad := range []string{"", "UPPER", "a:", "a:-x", "a//b", "-a", "a@sha256:short", "host:port:x/y", "a/b:" + string(make([]byte, 129)), ":tag"} {
		if r, err := parseRef(bad); err == nil {
			t.Errorf("parseRef(%q): got %s, want an error", bad, r)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
