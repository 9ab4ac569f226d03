package network

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/moby/moby/api/types/network"
)

// ipam groups --subnet, --ip-range, --gateway and --aux-address into one
// IPAM configuration per subnet, as the docker CLI does: each range,
// gateway and auxiliary address belongs to the subnet that holds it, a
// subnet has at most one range and one gateway, and subnets do not
// overlap. No subnet leaves the choice to the daemon (what the docker CLI
// sends then: the driver and no configuration).
func ipam(driver string, subnets, ranges, gateways, aux []string) (*network.IPAM, error) {
	configs := make([]network.IPAMConfig, 0, len(subnets))
	for _, s := range subnets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid subnet: invalid CIDR address: %s", s)
		}
		for _, c := range configs {
			if c.Subnet.Overlaps(p) {
				return nil, fmt.Errorf("multiple overlapping subnet configuration is not supported")
			}
		}
		configs = append(configs, network.IPAMConfig{Subnet: p})
	}
	for _, s := range ranges {
		r, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid ip-range: invalid CIDR address: %s", s)
		}
		c := holding(configs, r.Addr(), r.Bits())
		switch {
		case c == nil:
			return nil, fmt.Errorf("no matching subnet for range %s", s)
		case c.IPRange.IsValid():
			return nil, fmt.Errorf("cannot configure multiple ranges (%s, %s) on the same subnet (%s)", c.IPRange, r, c.Subnet)
		}
		c.IPRange = r
	}
	for _, s := range gateways {
		g, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid gateway: invalid IP address: %s", s)
		}
		c := holding(configs, g, g.BitLen())
		switch {
		case c == nil:
			return nil, fmt.Errorf("no matching subnet for gateway %s", s)
		case c.Gateway.IsValid():
			return nil, fmt.Errorf("cannot configure multiple gateways (%s, %s) for the same subnet (%s)", c.Gateway, g, c.Subnet)
		}
		c.Gateway = g
	}
	for _, kv := range aux {
		name, s, _ := strings.Cut(kv, "=")
		a, err := netip.ParseAddr(s)
		if name == "" || err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--aux-address\" flag: expected NAME=IP", kv)
		}
		c := holding(configs, a, a.BitLen())
		if c == nil {
			return nil, fmt.Errorf("no matching subnet for aux-address %s", s)
		}
		if c.AuxAddress == nil {
			c.AuxAddress = map[string]netip.Addr{}
		}
		c.AuxAddress[name] = a
	}
	return &network.IPAM{Driver: driver, Config: configs}, nil
}

// holding is the configuration whose subnet holds addr/bits.
func holding(configs []network.IPAMConfig, addr netip.Addr, bits int) *network.IPAMConfig {
	for i := range configs {
		if s := configs[i].Subnet; s.Contains(addr) && bits >= s.Bits() {
			return &configs[i]
		}
	}
	return nil
}
