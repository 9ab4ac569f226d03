package network

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/network/bridge"
)

// DefaultNetwork is the network a container in the default network mode
// ("default" or "bridge" mode) asks for: the default bridge, or none at
// all (loopback only) when berthd runs with --bridge=none.
const DefaultNetwork = "default"

// Validate checks, at create, what Attach will need; it changes nothing.
func (s *Service) Validate(ctx context.Context, mode string, atts []Attachment, ports []PortBinding) error {
	if strings.HasPrefix(mode, "container:") && len(ports) > 0 {
		return errorf(errdefs.ErrInvalidArgument, "conflicting options: port publishing and the container type network mode")
	}
	for _, p := range ports {
		if err := checkPort(p); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for i, a := range atts {
		n, skip, err := s.resolveLocked(a.Network)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		if seen[n.ID] {
			return errorf(errdefs.ErrInvalidArgument, "container cannot be connected to network %s twice", n.Name)
		}
		seen[n.ID] = true
		if i == 0 && len(ports) > 0 && n.Driver != "bridge" && !s.mapsPorts(n) {
			return errPortsUnsupported(n)
		}
		if err := s.checkAttachmentLocked(n, a); err != nil {
			return err
		}
		if a.IPv4.IsValid() {
			if _, err := s.allocateLocked(n, a.IPv4); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveLocked finds an attachment's network; skip is set for the
// default network when there is no default bridge.
func (s *Service) resolveLocked(ref string) (n *Network, skip bool, err error) {
	if ref == DefaultNetwork || ref == "" {
		if s.o.DefaultBridge == "none" {
			return nil, true, nil
		}
		ref = "bridge"
	}
	n, err = s.findLocked(ref)
	return n, false, err
}

// checkAttachmentLocked checks one attachment against its network.
func (s *Service) checkAttachmentLocked(n *Network, a Attachment) error {
	switch n.Driver {
	case "host", "null":
		return errorf(errdefs.ErrInvalidArgument, "container cannot be disconnected from host network or connected to host network")
	case "bridge":
	default:
		if s.drivers[n.Driver] == nil {
			return errorf(errdefs.ErrNotImplemented, "network %s: driver %s is not available", n.Name, n.Driver)
		}
	}
	if len(a.Aliases) > 0 && n.Default {
		return errorf(errdefs.ErrInvalidArgument, "network-scoped alias is supported only for containers in user defined networks")
	}
	if a.MAC != "" {
		if hw, err := net.ParseMAC(a.MAC); err != nil || len(hw) != 6 {
			return errorf(errdefs.ErrInvalidArgument, "invalid MAC address %s", a.MAC)
		}
	}
	if a.IPv4.IsValid() {
		return checkStatic(n, a.IPv4)
	}
	return nil
}

func checkPort(p PortBinding) error {
	switch p.Proto {
	case "tcp", "udp", "sctp":
	default:
		return errorf(errdefs.ErrInvalidArgument, "invalid proto: %s", p.Proto)
	}
	if p.ContainerPort == 0 {
		return errorf(errdefs.ErrInvalidArgument, "invalid containerPort: 0")
	}
	if p.HostIP.IsValid() && !p.HostIP.Is4() {
		return errorf(errdefs.ErrNotImplemented, "host IP %s: only IPv4 publishing is supported", p.HostIP)
	}
	return nil
}

// Attach connects a starting container to its networks; on error it
// leaves nothing behind.
func (s *Service) Attach(ctx context.Context, c Container) (j Joined, err error) {
	defer func() {
		if err != nil {
			if uerr := s.leave(ctx, c.ID, j.Endpoints); uerr != nil {
				s.logger(ctx).Warn("undo attach", "container", c.ID, "err", uerr)
			}
			s.mu.Lock()
			if len(s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == c.ID })) == 0 {
				delete(s.nsPaths, c.ID)
			}
			s.mu.Unlock()
			j = Joined{}
		}
	}()
	// The first endpoint on a network that is not internal gives the
	// default route and gets the published ports, as Docker's gateway
	// endpoint does.
	routed := false
	for _, a := range c.Attachments {
		var ports []PortBinding
		if !routed {
			ports = c.Ports
		}
		e, err := s.join(ctx, c, a, !routed, ports)
		if err != nil {
			return j, err
		}
		if e == nil {
			continue
		}
		j.Endpoints = append(j.Endpoints, *e)
		routed = routed || e.Gateway.IsValid()
	}
	if len(c.Ports) > 0 && routed {
		if err := s.applyRules(); err != nil {
			return j, err
		}
	}
	s.mu.Lock()
	for _, e := range j.Endpoints {
		if n := s.networks[e.NetworkID]; n != nil && n.Driver == "bridge" && !n.Default && s.dns != nil {
			j.Nameservers = []netip.Addr{n.Gateway}
			break
		}
	}
	type source struct {
		src NameserverSource
		n   Network
		e   Endpoint
	}
	var sources []source
	for _, e := range j.Endpoints {
		if n := s.networks[e.NetworkID]; n != nil && len(j.Nameservers) == 0 {
			if src, ok := s.drivers[n.Driver].(NameserverSource); ok {
				sources = append(sources, source{src, *n, e})
			}
		}
	}
	s.mu.Unlock()
	// Otherwise the first endpoint whose driver names DNS servers gives
	// them (asked outside the lock: a driver may read its own files).
	for _, x := range sources {
		if ns := x.src.Nameservers(&x.n, &x.e); len(ns) > 0 {
			j.Nameservers = ns
			break
		}
	}
	return j, nil
}

// join makes one endpoint: the record (the address lease) under the
// lock, then the container's link by the network's driver (a veth pair
// on a bridge), then the host ports (bridge only). When route is set and
// the network is not internal, the endpoint gives the default route and
// ports are published on it. A nil endpoint means the attachment asked
// for no network (the default one, disabled).
func (s *Service) join(ctx context.Context, c Container, a Attachment, route bool, ports []PortBinding) (_ *Endpoint, err error) {
	e, n, err := s.lease(c, a)
	if e == nil || err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if uerr := s.leave(ctx, c.ID, []Endpoint{*e}); uerr != nil {
				s.logger(ctx).Warn("undo join", "container", c.ID, "network", n.Name, "err", uerr)
			}
		}
	}()
	d := s.drivers[n.Driver]
	if d == nil {
		return nil, errorf(errdefs.ErrNotImplemented, "network %s: driver %s is not available", n.Name, n.Driver)
	}
	s.mu.Lock()
	s.nsPaths[c.ID] = c.NetNS
	s.mu.Unlock()
	// A driver that maps ports itself gets them, host ports reserved,
	// before its Join.
	mapper := s.mapsPorts(&n)
	if mapper && route && !n.Internal && len(ports) > 0 {
		if err := s.publish(e, ports); err != nil {
			return nil, err
		}
	}
	joined := *e
	if err := d.Join(&n, &joined, c.NetNS, route && !n.Internal); err != nil {
		return nil, fmt.Errorf("connect container %s to network %s: %w", c.Name, n.Name, err)
	}
	if joined.HostIf != e.HostIf || joined.Address != e.Address || joined.MAC != e.MAC {
		set := func(cur *Endpoint) { cur.HostIf, cur.Address, cur.MAC = joined.HostIf, joined.Address, joined.MAC }
		if err := s.updateEndpoint(e, set); err != nil {
			if lerr := d.Leave(&n, &joined, c.NetNS); lerr != nil {
				s.logger(ctx).Warn("undo join", "container", c.ID, "network", n.Name, "err", lerr)
			}
			return nil, err
		}
	}
	if !route || n.Internal || len(ports) == 0 || mapper {
		return e, nil
	}
	if n.Driver != "bridge" {
		return nil, errPortsUnsupported(&n)
	}
	if err := s.publish(e, withHostIP(ports, n.Options[optHostIP])); err != nil {
		return nil, err
	}
	return e, nil
}

// lease resolves the attachment, picks the address and interface name
// and writes the endpoint record, all under the lock.
func (s *Service) lease(c Container, a Attachment) (*Endpoint, Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, skip, err := s.resolveLocked(a.Network)
	if err != nil || skip {
		return nil, Network{}, err
	}
	if err := s.checkAttachmentLocked(n, a); err != nil {
		return nil, Network{}, err
	}
	mine := s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == c.ID })
	if slices.ContainsFunc(mine, func(e *Endpoint) bool { return e.NetworkID == n.ID }) {
		return nil, Network{}, errorf(errdefs.ErrPermissionDenied, "endpoint with name %s already exists in network %s", c.Name, n.Name)
	}
	var addr netip.Addr
	if n.Subnet.IsValid() {
		if addr, err = s.allocateLocked(n, a.IPv4); err != nil {
			return nil, Network{}, err
		}
	}
	id := newID()
	e := &Endpoint{ID: id, NetworkID: n.ID, NetworkName: n.Name, ContainerID: c.ID, ContainerName: c.Name,
		Aliases: slices.Clone(a.Aliases), IfName: freeIfName(mine)}
	if addr.IsValid() {
		e.Address = netip.PrefixFrom(addr, n.Subnet.Bits())
		e.MAC = bridge.MAC(addr).String()
	}
	if n.Driver == "bridge" {
		e.HostIf = bridge.HostIfName(id)
	}
	e.DNS = slices.Clone(c.DNS)
	if hw, err := net.ParseMAC(a.MAC); err == nil {
		e.MAC = hw.String()
	}
	if !n.Internal {
		e.Gateway = n.Gateway
	}
	if err := s.putEndpoint(e); err != nil {
		return nil, Network{}, err
	}
	s.addEndpointLocked(e)
	cp := *e
	return &cp, *n, nil
}

// errPortsUnsupported refuses published ports on a network whose driver
// has no NAT: its containers are reached at their own addresses.
func errPortsUnsupported(n *Network) error {
	return errorf(errdefs.ErrInvalidArgument, "network %s: %s driver does not support port mappings: the container is reachable at its own address", n.Name, n.Driver)
}

// updateEndpoint changes an endpoint's record and e as f says.
func (s *Service) updateEndpoint(e *Endpoint, f func(*Endpoint)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.eps[e.ID]
	if cur == nil {
		return errorf(errdefs.ErrNotFound, "endpoint %s gone", e.ID)
	}
	next := *cur
	f(&next)
	if err := s.putEndpoint(&next); err != nil {
		return err
	}
	s.replaceEndpointLocked(cur, &next)
	f(e)
	return nil
}

// freeIfName is the lowest ethN the container does not use yet.
func freeIfName(mine []*Endpoint) string {
	for i := 0; ; i++ {
		name := "eth" + strconv.Itoa(i)
		if !slices.ContainsFunc(mine, func(e *Endpoint) bool { return e.IfName == name }) {
			return name
		}
	}
}

func ifIndex(name string) int {
	i, err := strconv.Atoi(strings.TrimPrefix(name, "eth"))
	if err != nil {
		return 1 << 20
	}
	return i
}

// withHostIP gives the bindings without a host address the network's
// default one (com.docker.network.bridge.host_binding_ipv4), if any.
func withHostIP(ports []PortBinding, opt string) []PortBinding {
	ip, err := netip.ParseAddr(opt)
	if err != nil || !ip.Is4() || ip.IsUnspecified() {
		return ports
	}
	out := slices.Clone(ports)
	for i := range out {
		if !out[i].HostIP.IsValid() {
			out[i].HostIP = ip
		}
	}
	return out
}

// publish reserves the host ports and records them on the endpoint.
func (s *Service) publish(e *Endpoint, ports []PortBinding) (err error) {
	var held []Reservation
	defer func() {
		if err != nil {
			for _, r := range held {
				r.Close()
			}
		}
	}()
	var maps []PortMapping
	for _, p := range ports {
		m := PortMapping{PortBinding: p, ContainerIP: e.Address.Addr()}
		m.HostPortEnd = 0 // the port taken from a range is HostPort
		if s.o.Reserve != nil {
			var r Reservation
			if err := s.inNS(func() (err error) { r, err = s.o.Reserve(p); return err }); err != nil {
				return err
			}
			held = append(held, r)
			m.HostPort = r.Port()
		} else if p.HostPort == 0 {
			return errorf(errdefs.ErrNotImplemented, "publishing on a free host port needs port reservation")
		}
		maps = append(maps, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.eps[e.ID]
	if cur == nil {
		return errorf(errdefs.ErrNotFound, "endpoint %s gone", e.ID)
	}
	next := *cur
	next.Ports = maps
	if err := s.putEndpoint(&next); err != nil {
		return err
	}
	*cur = next
	e.Ports = maps
	s.resv[e.ID] = append(s.resv[e.ID], held...)
	return nil
}

// Detach removes all the container's endpoints; what is already gone is
// no error.
func (s *Service) Detach(ctx context.Context, containerID string) error {
	s.mu.Lock()
	var eps []Endpoint
	for _, e := range s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == containerID }) {
		eps = append(eps, *e)
	}
	s.mu.Unlock()
	err := s.leave(ctx, containerID, eps)
	s.mu.Lock()
	delete(s.nsPaths, containerID)
	s.mu.Unlock()
	return err
}

// leave removes endpoints: veth, held ports, record; then the rules when
// ports went.
func (s *Service) leave(ctx context.Context, containerID string, eps []Endpoint) error {
	var first error
	hadPorts := false
	for _, e := range eps {
		if err := s.leaveDriver(&e); err != nil && first == nil {
			first = err
		}
		s.mu.Lock()
		for _, r := range s.resv[e.ID] {
			r.Close()
		}
		delete(s.resv, e.ID)
		if cur := s.eps[e.ID]; cur != nil {
			hadPorts = hadPorts || len(cur.Ports) > 0
			if err := s.dropEndpointLocked(cur); err != nil && first == nil {
				first = err
			}
		}
		s.mu.Unlock()
	}
	if hadPorts {
		if err := s.applyRules(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// leaveDriver has the endpoint's driver remove the container's
// interface.
func (s *Service) leaveDriver(e *Endpoint) error {
	s.mu.Lock()
	n := s.networks[e.NetworkID]
	var cp Network
	if n != nil {
		cp = *n
	}
	path := s.nsPaths[e.ContainerID]
	s.mu.Unlock()
	if n == nil || n.Driver == "bridge" {
		return s.drv.RemoveEndpoint(e.HostIf)
	}
	d := s.drivers[cp.Driver]
	if d == nil {
		return errorf(errdefs.ErrNotImplemented, "network %s: driver %s is not available", cp.Name, cp.Driver)
	}
	return d.Leave(&cp, e, path)
}

// Connect adds a running container to one more network.
func (s *Service) Connect(ctx context.Context, c Container, att Attachment) (Endpoint, error) {
	s.mu.Lock()
	routed := len(s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == c.ID && e.Gateway.IsValid() })) > 0
	s.mu.Unlock()
	e, err := s.join(ctx, c, att, !routed, nil)
	if err != nil {
		return Endpoint{}, err
	}
	if e == nil {
		return Endpoint{}, errorf(errdefs.ErrNotFound, "network %s not found", "bridge")
	}
	return *e, nil
}

// Disconnect takes a container off one network.
func (s *Service) Disconnect(ctx context.Context, containerID, network string, force bool) error {
	s.mu.Lock()
	n, err := s.findLocked(network)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	eps := s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == containerID && e.NetworkID == n.ID })
	s.mu.Unlock()
	if len(eps) == 0 {
		if force {
			return nil
		}
		return errorf(errdefs.ErrPermissionDenied, "container %s is not connected to network %s", containerID, n.Name)
	}
	return s.leave(ctx, containerID, []Endpoint{*eps[0]})
}

// Endpoints are the container's endpoints, eth0 first.
func (s *Service) Endpoints(containerID string) []Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Endpoint
	for _, e := range s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == containerID }) {
		cp := *e
		cp.Aliases = slices.Clone(e.Aliases)
		cp.Ports = slices.Clone(e.Ports)
		out = append(out, cp)
	}
	return out
}
