package network

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	apinet "github.com/moby/moby/api/types/network"
)

func TestLookupUpstreams(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.s.Create(ctx, apinet.CreateRequest{Name: "in", Internal: true,
		IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{{Subnet: netip.MustParsePrefix("10.60.0.0/24")}}}}); err != nil {
		t.Fatal(err)
	}
	e.mustCreate("out", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.61.0.0/24")})
	dns1, dns2 := netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")
	for _, tc := range []struct {
		id   string
		atts []Attachment
		dns  []netip.Addr
		want []netip.AddrPort
		ok   bool
	}{
		{"withdns", []Attachment{{Network: "out"}}, []netip.Addr{dns1, dns2},
			[]netip.AddrPort{netip.AddrPortFrom(dns1, 53), netip.AddrPortFrom(dns2, 53)}, true},
		{"plain", []Attachment{{Network: "out"}}, nil, nil, false},
		{"internal", []Attachment{{Network: "in"}}, []netip.Addr{dns1}, nil, true},
		{"both", []Attachment{{Network: "in"}, {Network: "out"}}, []netip.Addr{dns1},
			[]netip.AddrPort{netip.AddrPortFrom(dns1, 53)}, true},
	} {
		c := e.container(tc.id, tc.atts...)
		c.DNS = tc.dns
		j, err := e.s.Attach(ctx, c)
		if err != nil {
			t.Fatalf("attach %s: %v", tc.id, err)
		}
		t.Cleanup(func() { e.s.Detach(ctx, tc.id) })
		for _, ep := range j.Endpoints {
			got, ok := lookup{e.s}.LookupUpstreams(ep.Address.Addr())
			if !slices.Equal(got, tc.want) || ok != tc.ok {
				t.Errorf("%s from %s: got %v %v, want %v %v", tc.id, ep.NetworkName, got, ok, tc.want, tc.ok)
			}
		}
	}
	if got, ok := (lookup{e.s}).LookupUpstreams(netip.MustParseAddr("10.61.0.200")); got != nil || ok {
		t.Errorf("stranger: got %v %v, want nothing, false", got, ok)
	}
	// The servers are the endpoint's record: berthd started again keeps
	// them.
	e.start()
	ep := e.s.Endpoints("withdns")[0]
	if got, ok := (lookup{e.s}).LookupUpstreams(ep.Address.Addr()); len(got) != 2 || !ok {
		t.Errorf("after a restart: got %v %v, want the two servers", got, ok)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.mustCreate("net", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.62.0.0/24")})
	c := e.container("a", Attachment{Network: "net"})
	j, err := e.s.Attach(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.s.Detach(ctx, "a") })
	if err := e.s.Rename(ctx, "a", "Renamed"); err != nil {
		t.Fatal(err)
	}
	ip := j.Endpoints[0].Address.Addr()
	check := func(when string) {
		t.Helper()
		l := lookup{e.s}
		for _, tc := range []struct {
			name string
			want int
		}{{"renamed", 1}, {"renamed.net", 1}, {"c-a", 0}} {
			if got := l.LookupName(ip, tc.name); len(got) != tc.want {
				t.Errorf("%s: lookup %s: got %v, want %d addresses", when, tc.name, got, tc.want)
			}
		}
		if got := l.LookupAddr(ip, ip); !slices.Equal(got, []string{"Renamed.net"}) {
			t.Errorf("%s: PTR: got %v, want [Renamed.net]", when, got)
		}
	}
	check("renamed")
	e.start()
	check("after a restart")
	if err := e.s.Rename(ctx, "nosuch", "x"); err != nil {
		t.Errorf("rename of a container without endpoints: got %v, want nil", err)
	}
}
