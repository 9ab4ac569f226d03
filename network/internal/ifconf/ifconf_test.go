package ifconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestCheckOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string // "": no error
	}{
		{nil, ""},
		{map[string]string{"parent": "eth0", "com.docker.network.driver.mtu": "1400"}, ""},
		{map[string]string{"parent": "eth0", "mode": "x"}, `unknown drv option "mode" (want parent, vlan)`},
	} {
		err := CheckOptions("drv", tc.opts, "parent", "vlan")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: got %v, want no error", tc.opts, err)
		case tc.want != "" && (err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want an invalid argument with %q", tc.opts, err, tc.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"eth0", true}, {"eth0.10", true}, {"a23456789012345", true},
		{"", false}, {".", false}, {"..", false}, {"a234567890123456", false}, {"a/b", false}, {"a:b", false}, {"a b", false},
	} {
		if got := ValidName(tc.name); got != tc.want {
			t.Errorf("ValidName(%q): got %v, want %v", tc.name, got, tc.want)
		}
	}
}
