package network

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/network/dns"
)

// errorf returns an error of class (an errdefs error) whose message is
// exactly the formatted text, as dockerd words it.
func errorf(class error, format string, args ...any) error {
	return &classed{msg: fmt.Sprintf(format, args...), class: class}
}

type classed struct {
	msg   string
	class error
}

func (e *classed) Error() string { return e.msg }
func (e *classed) Unwrap() error { return e.class }

// findLocked resolves a network reference as dockerd does: the full ID,
// then the exact name, then a unique ID prefix.
func (s *Service) findLocked(ref string) (*Network, error) {
	if ref == "" {
		return nil, errorf(errdefs.ErrNotFound, "network %s not found", ref)
	}
	if n := s.networks[ref]; n != nil {
		return n, nil
	}
	for _, n := range s.networks {
		if n.Name == ref {
			return n, nil
		}
	}
	var match *Network
	count := 0
	for _, n := range s.networks {
		if strings.HasPrefix(n.ID, ref) {
			match = n
			count++
		}
	}
	switch count {
	case 0:
		return nil, errorf(errdefs.ErrNotFound, "network %s not found", ref)
	case 1:
		return match, nil
	}
	return nil, errorf(errdefs.ErrInvalidArgument, "network %s is ambiguous (%d matches found based on ID prefix)", ref, count)
}

// find is findLocked under the lock, returning a copy.
func (s *Service) find(ref string) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.findLocked(ref)
	if err != nil {
		return Network{}, err
	}
	return *n, nil
}

var _ dns.ClientUpstreams = lookup{}

// LookupUpstreams chooses where the embedded DNS forwards a container's
// queries for names it does not know, as Docker's resolver does: to the
// container's --dns servers when it has some; nowhere when every network
// it is on is internal (no way out, so no answer from outside either);
// else (ok false) to the host's resolvers. A client that is no
// container's address gets the host's.
func (l lookup) LookupUpstreams(client netip.Addr) ([]netip.AddrPort, bool) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	id := ""
	for _, e := range l.s.eps {
		if e.Address.Addr() == client {
			id = e.ContainerID
			break
		}
	}
	if id == "" {
		return nil, false
	}
	internal := true
	var ups []netip.AddrPort
	for _, e := range l.s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == id }) {
		if n := l.s.networks[e.NetworkID]; n == nil || !n.Internal {
			internal = false
		}
		for _, a := range e.DNS {
			if up := netip.AddrPortFrom(a, dns.Port); !slices.Contains(ups, up) {
				ups = append(ups, up)
			}
		}
	}
	switch {
	case internal:
		return nil, true
	case len(ups) > 0:
		return ups, true
	}
	return nil, false
}
