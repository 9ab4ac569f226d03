package network

import (
	"net/netip"

	"github.com/containerd/errdefs"
)

// The addresses in use are the endpoints' addresses: an endpoint record
// is the lease, so leases persist and go with their endpoints. Allocation
// happens under the service's lock, record written before the lock is
// released, so concurrent joins never get the same address.

// bounds are the first and last address dynamic allocation may give: the
// IP range's (or the subnet's) without the network and broadcast
// addresses.
func bounds(n *Network) (first, last uint32) {
	r := n.Subnet
	if n.IPRange.IsValid() {
		r = n.IPRange
	}
	first = u32(r.Masked().Addr())
	last = first | (uint32(1)<<(32-r.Bits()) - 1)
	net, bcast := u32(n.Subnet.Masked().Addr()), u32(n.Subnet.Masked().Addr())|(uint32(1)<<(32-n.Subnet.Bits())-1)
	if first <= net {
		first = net + 1
	}
	if last >= bcast {
		last = bcast - 1
	}
	return first, last
}

// allocateLocked picks an address for a new endpoint on n: want when
// given (it must be in the subnet, not the gateway, and free), else the
// lowest free one.
func (s *Service) allocateLocked(n *Network, want netip.Addr) (netip.Addr, error) {
	used := s.used[n.ID]
	if want.IsValid() {
		if err := checkStatic(n, want); err != nil {
			return netip.Addr{}, err
		}
		if _, taken := used[want]; taken {
			return netip.Addr{}, errorf(errdefs.ErrConflict, "address %s already in use on network %s", want, n.Name)
		}
		return want, nil
	}
	first, last := bounds(n)
	for v := first; v <= last && v >= first; v++ {
		a := addr4(v)
		if a == n.Gateway {
			continue
		}
		if _, taken := used[a]; !taken {
			return a, nil
		}
	}
	return netip.Addr{}, errorf(errdefs.ErrResourceExhausted, "no available IPv4 addresses on network %s", n.Name)
}

// checkStatic checks a requested address against the network, with
// dockerd's words.
func checkStatic(n *Network, a netip.Addr) error {
	if n.Driver == "host" || n.Driver == "null" || !n.Subnet.IsValid() {
		return errorf(errdefs.ErrInvalidArgument, "user specified IP address is supported on user defined networks only")
	}
	if n.Default {
		return errorf(errdefs.ErrInvalidArgument, "user specified IP address is supported on user defined networks only")
	}
	if !a.Is4() {
		return errorf(errdefs.ErrInvalidArgument, "invalid IPv4 address %s", a)
	}
	if !n.Subnet.Contains(a) {
		return errorf(errdefs.ErrInvalidArgument, "no configured subnet or ip-range contain the IP address %s", a)
	}
	v := u32(a)
	netAddr := u32(n.Subnet.Masked().Addr())
	if v == netAddr || v == netAddr|(uint32(1)<<(32-n.Subnet.Bits())-1) {
		return errorf(errdefs.ErrInvalidArgument, "address %s is the network or broadcast address of %s", a, n.Subnet)
	}
	if a == n.Gateway {
		return errorf(errdefs.ErrConflict, "address %s already in use on network %s (the gateway)", a, n.Name)
	}
	return nil
}

// inUse counts the addresses in use on n and those left for dynamic
// allocation (for inspect's Status).
func (s *Service) inUseLocked(n *Network) (used, free uint64) {
	first, last := bounds(n)
	total := uint64(last-first) + 1
	if n.Gateway.IsValid() && u32(n.Gateway) >= first && u32(n.Gateway) <= last {
		total--
	}
	used = uint64(len(s.used[n.ID]))
	dyn := uint64(0)
	for a := range s.used[n.ID] {
		if v := u32(a); v >= first && v <= last {
			dyn++
		}
	}
	return used, total - dyn
}
