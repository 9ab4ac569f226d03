package network

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	apinet "github.com/moby/moby/api/types/network"
)

func TestCheckSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	for _, tc := range []struct {
		cfg  apinet.IPAMConfig
		want string // substring of the error; empty: valid
	}{
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16")}, ""},
		{apinet.IPAMConfig{Subnet: p("10.1.2.3/16")}, "invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/31")}, "too small"},
		{apinet.IPAMConfig{Subnet: p("fd00::/64")}, "only IPv4"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), IPRange: p("10.2.0.0/24")}, "not inside subnet"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), IPRange: p("10.1.5.0/24")}, ""},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), Gateway: a("10.1.0.0")}, "network or broadcast"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), Gateway: a("10.1.255.255")}, "network or broadcast"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), Gateway: a("10.2.0.1")}, "not inside subnet"},
		{apinet.IPAMConfig{Subnet: p("10.1.0.0/16"), Gateway: a("10.1.9.9")}, ""},
	} {
		err := checkSubnet(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: got %v, want no error", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		subnet, ipRange string
		first, last     string
	}{
		{"10.0.0.0/24", "", "10.0.0.1", "10.0.0.254"},
		{"10.0.0.0/16", "10.0.5.0/24", "10.0.5.0", "10.0.5.255"},
		{"10.0.0.0/24", "10.0.0.0/25", "10.0.0.1", "10.0.0.127"},
	} {
		n := &Network{Subnet: netip.MustParsePrefix(tc.subnet)}
		if tc.ipRange != "" {
			n.IPRange = netip.MustParsePrefix(tc.ipRange)
		}
		f, l := bounds(n)
		if addr4(f).String() != tc.first || addr4(l).String() != tc.last {
			t.Errorf("%s %s: got %s-%s, want %s-%s", tc.subnet, tc.ipRange, addr4(f), addr4(l), tc.first, tc.last)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"net1": true, "my_net.x-1": true, "-x": false, "a b": false, "a/b": false, "": false} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q): got %v, want %v", name, got, want)
		}
	}
}

func TestFilters(t *testing.T) {
	now := time.Now()
	user := &Network{ID: "abc123", Name: "web-net", Driver: "bridge", Scope: "local", Created: now.Add(-2 * time.Hour),
		Labels: map[string]string{"env": "prod"}}
	host := &Network{ID: "def456", Name: "host", Driver: "host", Scope: "local", Created: now}
	for _, tc := range []struct {
		filters map[string][]string
		n       *Network
		inUse   bool
		want    bool
	}{
		{map[string][]string{"driver": {"bridge"}}, user, false, true},
		{map[string][]string{"driver": {"host"}}, user, false, false},
		{map[string][]string{"name": {"web"}}, user, false, true},
		{map[string][]string{"name": {"^net"}}, user, false, false},
		{map[string][]string{"id": {"abc"}}, user, false, true},
		{map[string][]string{"label": {"env=prod"}}, user, false, true},
		{map[string][]string{"label": {"env=dev"}}, user, false, false},
		{map[string][]string{"label!": {"env"}}, user, false, false},
		{map[string][]string{"type": {"custom"}}, user, false, true},
		{map[string][]string{"type": {"custom"}}, host, false, false},
		{map[string][]string{"type": {"builtin"}}, host, false, true},
		{map[string][]string{"dangling": {"true"}}, user, false, true},
		{map[string][]string{"dangling": {"true"}}, user, true, false},
		{map[string][]string{"dangling": {"true"}}, host, false, false},
		{map[string][]string{"until": {"1h"}}, user, false, true},
		{map[string][]string{"until": {"3h"}}, user, false, false},
	} {
		f, err := parseFilters(tc.filters, "driver", "id", "label", "label!", "name", "scope", "type", "dangling", "until")
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		if got := f.match(tc.n, tc.inUse); got != tc.want {
			t.Errorf("%v on %s (in use %v): got %v, want %v", tc.filters, tc.n.Name, tc.inUse, got, tc.want)
		}
	}
	for _, bad := range []map[string][]string{{"nope": {"x"}}, {"type": {"x"}}, {"dangling": {"maybe"}}, {"until": {"soon"}}} {
		if _, err := parseFilters(bad, "type", "dangling", "until"); err == nil {
			t.Errorf("%v: got no error", bad)
		}
	}
}
