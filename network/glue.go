package network

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/berth-dev/berth/network/dns"
	"github.com/berth-dev/berth/network/nat"
)

// firewall is what the service needs of berth's nftables table
// (*nat.Table).
type firewall interface {
	Apply(nat.Rules) error
	Delete() error
	Close() error
}

// resolver is what the service needs of the embedded DNS (*dns.Server).
type resolver interface {
	Listen(netip.Addr) error
	Unlisten(netip.Addr)
	Close() error
}

// openGlue opens the nftables table (unless rules are off) and starts the
// embedded DNS, both in the service's namespace.
func (s *Service) openGlue() error {
	if s.o.Table != "" {
		err := s.inNS(func() error {
			t, err := nat.Open(s.o.Table)
			if err == nil {
				s.fw = t
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	up := s.o.Upstreams
	if up == nil {
		up = func() []netip.AddrPort { return nil }
	}
	s.dns = dns.New(dns.Options{Lookup: lookup{s}, Upstreams: up, Logger: s.log})
	return nil
}

// rulesLocked is the desired ruleset: every bridge network, and the
// published ports of every endpoint.
func (s *Service) rulesLocked() nat.Rules {
	r := nat.Rules{KeepIPForward: s.o.KeepIPForward}
	for _, n := range s.sortedNetworksLocked() {
		if n.Driver != "bridge" {
			continue
		}
		r.Networks = append(r.Networks, nat.NetRule{Bridge: n.Bridge, Subnet: n.Subnet, Internal: n.Internal, ICC: n.ICC})
	}
	for _, e := range s.endpointsOfLocked(func(e *Endpoint) bool { return len(e.Ports) > 0 }) {
		n := s.networks[e.NetworkID]
		if n == nil || n.Driver != "bridge" {
			continue // a driver that maps its ports itself
		}
		for _, p := range e.Ports {
			r.Ports = append(r.Ports, nat.PortRule{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort,
				ContainerIP: e.Address.Addr(), ContainerPort: p.ContainerPort, Bridge: n.Bridge})
		}
	}
	return r
}

// applyRules writes the desired ruleset to the table. ruleMu makes the
// read of the state and the write one step, so tables are written in
// the order the states were.
func (s *Service) applyRules() error {
	if s.fw == nil {
		return nil
	}
	s.ruleMu.Lock()
	defer s.ruleMu.Unlock()
	s.mu.Lock()
	r := s.rulesLocked()
	s.mu.Unlock()
	if len(r.Networks) == 0 {
		// No bridge network (--bridge=none and no user network): no
		// table. It is deleted only when this berthd wrote it, or a
		// former bridge network's rules may be in it: a --bridge=none
		// berthd never touches nftables otherwise.
		if !s.wrote {
			return nil
		}
		s.wrote = false
		return s.fw.Delete()
	}
	s.wrote = true
	return s.fw.Apply(r)
}

// lookup answers the embedded DNS from the endpoints: a client sees the
// containers of the user networks it is on.
type lookup struct{ s *Service }

// sharedLocked are the endpoints on the user networks of the container
// whose address client is.
func (l lookup) sharedLocked(client netip.Addr) []*Endpoint {
	s := l.s
	nets := map[string]bool{}
	for _, e := range s.eps {
		if e.Address.Addr() == client {
			for _, o := range s.eps {
				if o.ContainerID == e.ContainerID {
					if n := s.networks[o.NetworkID]; n != nil && !n.Default {
						nets[n.ID] = true
					}
				}
			}
		}
	}
	return s.endpointsOfLocked(func(e *Endpoint) bool { return nets[e.NetworkID] })
}

func (l lookup) LookupName(client netip.Addr, name string) []netip.Addr {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	var out []netip.Addr
	for _, e := range l.sharedLocked(client) {
		// "web" or, on that network only, "web.mynet".
		n, onNet := strings.CutSuffix(name, "."+lower(e.NetworkName))
		if (nameOf(e, name) || onNet && nameOf(e, n)) && !slices.Contains(out, e.Address.Addr()) {
			out = append(out, e.Address.Addr())
		}
	}
	return out
}

func (l lookup) LookupAddr(client, addr netip.Addr) []string {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	var out []string
	for _, e := range l.sharedLocked(client) {
		if e.Address.Addr() == addr {
			out = append(out, e.ContainerName+"."+e.NetworkName)
		}
	}
	return out
}

// nameOf reports whether an endpoint answers to name: the container's
// name, an alias, or its short (12-digit) ID, in lower case.
func nameOf(e *Endpoint, name string) bool {
	if lower(e.ContainerName) == name || len(e.ContainerID) >= 12 && e.ContainerID[:12] == name {
		return true
	}
	return slices.ContainsFunc(e.Aliases, func(a string) bool { return lower(a) == name })
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
