package network

import (
	"fmt"
	"net/netip"

	"github.com/containerd/errdefs"
)

// DefaultPools are dockerd's default address pools: 172.17.0.0/16 to
// 172.31.0.0/16 by /16, then 192.168.0.0/16 by /20.
func DefaultPools() []Pool {
	var ps []Pool
	for i := 17; i <= 31; i++ {
		ps = append(ps, Pool{Base: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16), Size: 16})
	}
	return append(ps, Pool{Base: netip.MustParsePrefix("192.168.0.0/16"), Size: 20})
}

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// takenLocked are the prefixes a new subnet must not overlap: every
// network's subnet, and every host route except those of berth's own
// bridges (they are the networks' subnets again, and the default route
// is not listed).
func (s *Service) takenLocked() ([]netip.Prefix, error) {
	ours := map[string]bool{s.o.DefaultBridge: true}
	var out []netip.Prefix
	for _, n := range s.networks {
		if n.Subnet.IsValid() {
			out = append(out, n.Subnet)
		}
		if n.Bridge != "" {
			ours[n.Bridge] = true
		}
	}
	routes, err := s.drv.Routes()
	if err != nil {
		return nil, err
	}
	for _, r := range routes {
		if !ours[r.Dev] {
			out = append(out, r.Dst)
		}
	}
	return out, nil
}

// freeSubnetLocked is the first subnet of the pools that overlaps
// nothing taken.
func (s *Service) freeSubnetLocked() (netip.Prefix, error) {
	taken, err := s.takenLocked()
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, p := range s.o.Pools {
		if p.Size < p.Base.Bits() || p.Size > 30 || !p.Base.Addr().Is4() {
			continue
		}
		step := uint32(1) << (32 - p.Size)
		start := u32(p.Base.Masked().Addr())
		count := uint64(1) << (p.Size - p.Base.Bits())
		for i := uint64(0); i < count; i++ {
			cand := netip.PrefixFrom(addr4(start+uint32(i)*step), p.Size)
			if !overlapsAny(cand, taken) {
				return cand, nil
			}
		}
	}
	return netip.Prefix{}, fmt.Errorf("all predefined address pools have been fully subnetted: %w", errdefs.ErrResourceExhausted)
}

func overlapsAny(p netip.Prefix, taken []netip.Prefix) bool {
	for _, t := range taken {
		if overlaps(p, t) {
			return true
		}
	}
	return false
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
