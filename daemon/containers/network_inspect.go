package containers

import (
	"net/netip"
	"sort"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	netsvc "github.com/berth-dev/berth/network"
)

// anyIPv4 is how Docker shows a port published on every address.
var anyIPv4 = netip.IPv4Unspecified()

// netSettings is a container's NetworkSettings as inspect shows it: its
// networks, and while it runs their endpoints, its published ports (an
// exposed port that is not published maps to null) and its network
// namespace. The caller holds c.mu.
func (s *Service) netSettings(c *ctr) *container.NetworkSettings {
	r := c.rec
	ns := &container.NetworkSettings{Networks: s.endpointSettings(c), Ports: network.PortMap{}}
	nm := r.HostConfig.NetworkMode
	if !r.State.running() || nm.IsHost() || nm.IsContainer() || r.State.Pid == 0 {
		return ns
	}
	ns.SandboxID = c.id
	ns.SandboxKey = netNSPath(r.State.Pid)
	if len(c.eps) > 0 {
		ns.Ports = portMap(r.Config.ExposedPorts, c.eps)
	}
	return ns
}

// endpointSettings are the networks of a container as inspect and ps
// show them: what was asked of each, with the endpoint's address,
// gateway, MAC and DNS names while the container is on it. The caller
// holds c.mu.
func (s *Service) endpointSettings(c *ctr) map[string]*network.EndpointSettings {
	nets := s.networksOf(c.rec)
	if nets == nil {
		return networks(c.rec.HostConfig)
	}
	out := make(map[string]*network.EndpointSettings, len(nets))
	for name, es := range nets {
		e := es.Copy()
		if e == nil {
			e = &network.EndpointSettings{}
		}
		if ep := findEndpoint(c.eps, name, e.NetworkID); ep != nil {
			fillEndpoint(e, ep, c.short)
		}
		out[name] = e
	}
	return out
}

// findEndpoint is the endpoint on the network of that name or ID.
func findEndpoint(eps []netsvc.Endpoint, name, id string) *netsvc.Endpoint {
	for i := range eps {
		if eps[i].NetworkName == name || id != "" && eps[i].NetworkID == id {
			return &eps[i]
		}
	}
	return nil
}

// fillEndpoint adds what the run made of an endpoint to its settings.
func fillEndpoint(e *network.EndpointSettings, ep *netsvc.Endpoint, short string) {
	e.NetworkID, e.EndpointID = ep.NetworkID, ep.ID
	e.Gateway = ep.Gateway
	if ep.Address.IsValid() {
		e.IPAddress, e.IPPrefixLen = ep.Address.Addr(), ep.Address.Bits()
	}
	e.MacAddress = macOf(ep.MAC)
	if ep.NetworkName != network.NetworkBridge {
		// Docker's names of the container on a user network: its name,
		// its aliases, its short ID.
		e.DNSNames = append(append([]string{ep.ContainerName}, ep.Aliases...), short)
	}
}

// portMap is inspect's Ports: every exposed port, with the host ports it
// is published on (null when none).
func portMap(exposed network.PortSet, eps []netsvc.Endpoint) network.PortMap {
	pm := network.PortMap{}
	for p := range exposed {
		pm[p] = nil
	}
	seen := map[netsvc.PortBinding]bool{}
	for _, ep := range eps {
		for _, m := range ep.Ports {
			p, ok := network.PortFrom(m.ContainerPort, network.IPProtocol(m.Proto))
			if !ok || seen[m.PortBinding] {
				continue
			}
			seen[m.PortBinding] = true
			ip := m.HostIP
			if !ip.IsValid() {
				ip = anyIPv4
			}
			pm[p] = append(pm[p], network.PortBinding{HostIP: ip, HostPort: strconv.Itoa(int(m.HostPort))})
		}
	}
	return pm
}

// portSummary is ps's Ports: the published ports, then the exposed
// ones that are not, in port order.
func portSummary(pm network.PortMap) []container.PortSummary {
	out := []container.PortSummary{}
	for p, bs := range pm {
		if len(bs) == 0 {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
			continue
		}
		for _, b := range bs {
			n, _ := strconv.Atoi(b.HostPort)
			out = append(out, container.PortSummary{IP: b.HostIP, PrivatePort: p.Num(), PublicPort: uint16(n), Type: string(p.Proto())})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.PublicPort < b.PublicPort
	})
	return out
}

// netSummary fills a ps line's networks and ports. The caller holds
// c.mu.
func (s *Service) netSummary(sum *container.Summary, c *ctr) {
	ns := s.netSettings(c)
	sum.NetworkSettings = &container.NetworkSettingsSummary{Networks: ns.Networks}
	sum.Ports = portSummary(ns.Ports)
}

// onNetwork reports whether a record names a network, by name or ID, as
// ps's network filter matches.
func onNetwork(r *record, ref string) bool {
	if r.HostConfig.NetworkMode.NetworkName() == ref {
		return true
	}
	for name, es := range r.Networks {
		if name == ref || es != nil && es.NetworkID != "" && es.NetworkID == ref {
			return true
		}
	}
	return false
}

// portFilter is a ps publish or expose filter: a port or range, and a
// protocol (tcp when not given).
type portFilter struct {
	lo, hi uint16
	proto  string
}

func parsePortFilter(v string) (portFilter, error) {
	pr, err := network.ParsePortRange(v)
	if err != nil {
		return portFilter{}, err
	}
	return portFilter{lo: pr.Start(), hi: pr.End(), proto: string(pr.Proto())}, nil
}

// portsMatch applies ps's publish filters (a host port a container
// publishes) and expose filters (a port it exposes or publishes) to its
// ports, as dockerd does.
func portsMatch(filters map[string][]string, ports []container.PortSummary) bool {
	for _, key := range []string{"publish", "expose"} {
		vs := filters[key]
		if len(vs) == 0 {
			continue
		}
		ok := false
		for _, v := range vs {
			f, err := parsePortFilter(v)
			if err != nil {
				continue
			}
			for _, p := range ports {
				n := p.PrivatePort
				if key == "publish" {
					n = p.PublicPort
				}
				if n != 0 && n >= f.lo && n <= f.hi && p.Type == f.proto {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
