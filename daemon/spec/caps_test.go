package spec

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestCapabilities(t *testing.T) {
	def := DefaultCapabilities()
	without := func(list []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		err        string
	}{
		{name: "defaults", want: def},
		{name: "add one", add: []string{"SYS_PTRACE"}, want: append(slices.Clone(def), "CAP_SYS_PTRACE")},
		{name: "add prefixed lower-case", add: []string{"cap_net_admin"}, want: append(slices.Clone(def), "CAP_NET_ADMIN")},
		{name: "add one already there", add: []string{"chown"}, want: def},
		{name: "drop two", drop: []string{"NET_RAW", "Cap_Mknod"}, want: without(def, "CAP_NET_RAW", "CAP_MKNOD")},
		{name: "drop and add the same", drop: []string{"NET_RAW"}, add: []string{"NET_RAW"}, want: append(without(def, "CAP_NET_RAW"), "CAP_NET_RAW")},
		{name: "drop ALL", drop: []string{"ALL"}, want: nil},
		{name: "drop all, add two", drop: []string{"all"}, add: []string{"NET_BIND_SERVICE", "chown"}, want: []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"}},
		{name: "add ALL", add: []string{"ALL"}, want: testCaps()},
		{name: "add ALL, drop two", add: []string{"ALL"}, drop: []string{"SYS_ADMIN", "NET_ADMIN"}, want: without(testCaps(), "CAP_SYS_ADMIN", "CAP_NET_ADMIN")},
		{name: "privileged ignores drops", privileged: true, drop: []string{"ALL"}, want: testCaps()},
		{name: "unknown", add: []string{"FOO"}, err: `unknown capability: "CAP_FOO"`},
		{name: "unknown dropped", drop: []string{"CAP_BOGUS"}, err: `unknown capability: "CAP_BOGUS"`},
		{name: "not on this host", add: []string{"SYS_RESOURCE"}, err: `capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"`},
	}
	h := testHost()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := capabilities(&h, tt.add, tt.drop, tt.privileged)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("got error %v, want invalid argument %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %s, want %s", strings.Join(got, " "), strings.Join(tt.want, " "))
			}
		})
	}
}

// TestCapabilitiesNilHostCaps: with no host list, every capability this
// build knows is available.
func TestCapabilitiesNilHostCaps(t *testing.T) {
	got, err := capabilities(&Host{}, []string{"ALL"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "CAP_SYS_RESOURCE") || !slices.Contains(got, "CAP_SYS_ADMIN") {
		t.Errorf("got %v, want every known capability", got)
	}
}
