package network

import (
	"encoding/json"
	"testing"

	apinet "github.com/moby/moby/api/types/network"
)

// FuzzCreateRequest feeds the checks of POST /networks/create with any
// JSON body: a clear error or a plan, never a panic, and a plan's subnet,
// range and gateway are consistent.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"Name":"n1"}`,
		`{"Name":"n1","Driver":"bridge","Internal":true,"Labels":{"a":"b"}}`,
		`{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.1.0.0/16","IPRange":"10.1.2.0/24","Gateway":"10.1.0.1"}]}}`,
		`{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.1.2.3/16"}]}}`,
		`{"Name":"n1","Options":{"com.docker.network.bridge.name":"br0","com.docker.network.driver.mtu":"9000"}}`,
		`{"Name":"n1","Options":{"com.docker.network.bridge.enable_icc":"maybe"}}`,
		`{"Name":"bridge"}`,
		`{"Name":"-x","EnableIPv6":true}`,
	} {
		f.Add([]byte(seed))
	}
	s := &Service{mtu: 1500}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req apinet.CreateRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		n, err := s.plan(req)
		if err != nil {
			return
		}
		if !validIfName(n.Bridge) || !validName(n.Name) {
			t.Fatalf("plan accepted bridge %q name %q", n.Bridge, n.Name)
		}
		if req.IPAM == nil || len(req.IPAM.Config) != 1 {
			return
		}
		c := req.IPAM.Config[0]
		if c.Subnet.IsValid() && checkSubnet(c) == nil {
			if c.IPRange.IsValid() && !c.Subnet.Contains(c.IPRange.Addr()) {
				t.Fatalf("range %s outside %s accepted", c.IPRange, c.Subnet)
			}
			if c.Gateway.IsValid() && !c.Subnet.Contains(c.Gateway) {
				t.Fatalf("gateway %s outside %s accepted", c.Gateway, c.Subnet)
			}
			n.Subnet, n.IPRange = c.Subnet, c.IPRange
			if first, last := bounds(n); first > last+1 {
				t.Fatalf("bounds of %s %s: %d > %d", c.Subnet, c.IPRange, first, last)
			}
		}
	})
}
