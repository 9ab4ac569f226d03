package network

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	apinet "github.com/moby/moby/api/types/network"
)

// Driver options of the bridge driver that berth reads.
const (
	optBridgeName = "com.docker.network.bridge.name"
	optMTU        = "com.docker.network.driver.mtu"
	optICC        = "com.docker.network.bridge.enable_icc"
	optHostIP     = "com.docker.network.bridge.host_binding_ipv4"
)

// Create makes a user network: its record, then its bridge. Nothing is
// left when it fails.
func (s *Service) Create(ctx context.Context, req apinet.CreateRequest) (apinet.CreateResponse, error) {
	n, err := s.plan(req)
	if err != nil {
		return apinet.CreateResponse{}, err
	}
	s.mu.Lock()
	if err := s.placeLocked(n, req.IPAM); err != nil {
		s.mu.Unlock()
		return apinet.CreateResponse{}, err
	}
	if err := s.checkDriverLocked(n); err != nil {
		s.mu.Unlock()
		return apinet.CreateResponse{}, err
	}
	if err := s.putNetwork(n); err != nil {
		s.mu.Unlock()
		return apinet.CreateResponse{}, err
	}
	s.networks[n.ID] = n
	s.mu.Unlock()
	if err := s.up(n); err != nil {
		s.undoCreate(ctx, n)
		return apinet.CreateResponse{}, err
	}
	if err := s.applyRules(); err != nil {
		s.undoCreate(ctx, n)
		return apinet.CreateResponse{}, err
	}
	return apinet.CreateResponse{ID: n.ID}, nil
}

func (s *Service) undoCreate(ctx context.Context, n *Network) {
	s.mu.Lock()
	delete(s.networks, n.ID)
	if err := deleteKey(s.o.DB, networksBucket, n.ID); err != nil {
		s.logger(ctx).Warn("undo network create", "network", n.Name, "err", err)
	}
	s.mu.Unlock()
	s.down(n)
}

// plan checks a create request that needs no state and makes the
// record's fixed parts.
func (s *Service) plan(req apinet.CreateRequest) (*Network, error) {
	switch req.Name {
	case "":
		return nil, errorf(errdefs.ErrInvalidArgument, "network name must not be empty")
	case "bridge", "host", "none", "default":
		return nil, errorf(errdefs.ErrPermissionDenied, "%s is a pre-defined network and cannot be created", req.Name)
	}
	if !validName(req.Name) {
		return nil, errorf(errdefs.ErrInvalidArgument, "invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", req.Name)
	}
	drvName := req.Driver
	switch drvName {
	case "", "bridge":
		drvName = "bridge"
	case "host", "null":
		return nil, errorf(errdefs.ErrPermissionDenied, "only one instance of %q network is allowed", req.Driver)
	default:
		if s.drivers[drvName] == nil {
			return nil, errorf(errdefs.ErrNotFound, "plugin %q not found", req.Driver)
		}
	}
	if req.Scope != "" && req.Scope != "local" {
		return nil, errorf(errdefs.ErrInvalidArgument, "scope %q is not supported: networks are local", req.Scope)
	}
	if req.EnableIPv6 != nil && *req.EnableIPv6 {
		return nil, errorf(errdefs.ErrNotImplemented, "IPv6 networks are not supported yet")
	}
	if req.EnableIPv4 != nil && !*req.EnableIPv4 {
		return nil, errorf(errdefs.ErrNotImplemented, "IPv6-only networks are not supported yet")
	}
	switch {
	case req.Attachable:
		return nil, errorf(errdefs.ErrInvalidArgument, "attachable networks are a swarm feature, not supported")
	case req.Ingress:
		return nil, errorf(errdefs.ErrInvalidArgument, "ingress networks are a swarm feature, not supported")
	case req.ConfigOnly || req.ConfigFrom != nil:
		return nil, errorf(errdefs.ErrInvalidArgument, "config-only networks are not supported")
	}
	n := &Network{ID: newID(), Name: req.Name, Driver: drvName, Scope: "local", Created: time.Now().UTC(),
		Internal: req.Internal, ICC: true, MTU: s.mtu,
		Labels: maps.Clone(req.Labels), Options: maps.Clone(req.Options)}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if n.Options == nil {
		n.Options = map[string]string{}
	}
	if drvName != "bridge" {
		return n, nil // the driver checks its options (checkDriverLocked)
	}
	n.Bridge = "br-" + n.ID[:12]
	if v, ok := n.Options[optBridgeName]; ok {
		if !validIfName(v) {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid bridge name %q: 1 to 15 characters, no '/', ':' or blanks", v)
		}
		n.Bridge = v
	}
	if v, ok := n.Options[optMTU]; ok {
		m, err := strconv.Atoi(v)
		if err != nil || m < 68 || m > 65535 {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid MTU %q: want 68 to 65535", v)
		}
		n.MTU = m
	}
	if v, ok := n.Options[optHostIP]; ok {
		if ip, err := netip.ParseAddr(v); err != nil || !ip.Is4() {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid %s %q: want an IPv4 address", optHostIP, v)
		}
	}
	if v, ok := n.Options[optICC]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid %s %q: want true or false", optICC, v)
		}
		n.ICC = b
	}
	return n, nil
}

// checkDriverLocked has the network's driver check its options, and
// refuses a second network of a driver other than bridge on the same
// parent interface with the same VLAN (two networks would share one
// link).
func (s *Service) checkDriverLocked(n *Network) error {
	if err := s.drivers[n.Driver].CheckNetwork(n); err != nil {
		return err
	}
	parent := n.Options["parent"]
	if n.Driver == "bridge" || parent == "" {
		return nil
	}
	for _, o := range s.networks {
		if o.Driver != "bridge" && o.Options["parent"] == parent && o.Options["vlan"] == n.Options["vlan"] {
			return errorf(errdefs.ErrConflict, "network %s is already using parent interface %s", o.Name, parent)
		}
	}
	return nil
}

// placeLocked checks what depends on the other networks (name, bridge,
// subnet) and gives the network its addresses.
func (s *Service) placeLocked(n *Network, ipam *apinet.IPAM) error {
	for _, o := range s.networks {
		if o.Name == n.Name {
			return errorf(errdefs.ErrAlreadyExists, "network with name %s already exists", n.Name)
		}
		if n.Bridge != "" && o.Bridge == n.Bridge {
			return errorf(errdefs.ErrConflict, "bridge name %s is already used by network %s", n.Bridge, o.Name)
		}
	}
	var cfg apinet.IPAMConfig
	if ipam != nil {
		if ipam.Driver != "" && ipam.Driver != "default" {
			return errorf(errdefs.ErrNotFound, "IPAM driver %q not found", ipam.Driver)
		}
		switch len(ipam.Config) {
		case 0:
		case 1:
			cfg = ipam.Config[0]
		default:
			return errorf(errdefs.ErrNotImplemented, "only one IPAM config (one IPv4 subnet) per network is supported")
		}
	}
	if !cfg.Subnet.IsValid() {
		if cfg.IPRange.IsValid() || cfg.Gateway.IsValid() {
			return errorf(errdefs.ErrInvalidArgument, "ip-range and gateway need a subnet")
		}
		if so, ok := s.drivers[n.Driver].(SubnetOptional); ok && so.SubnetOptional() {
			return nil
		}
		sub, err := s.freeSubnetLocked()
		if err != nil {
			return err
		}
		n.Subnet, n.Gateway = sub, sub.Addr().Next()
		return nil
	}
	if err := checkSubnet(cfg); err != nil {
		return err
	}
	for _, o := range s.networks {
		if o.Subnet.IsValid() && overlaps(o.Subnet, cfg.Subnet) {
			return errorf(errdefs.ErrPermissionDenied, "invalid pool request: Pool overlaps with other one on this address space (%s of network %s)", o.Subnet, o.Name)
		}
	}
	n.Subnet, n.IPRange, n.Gateway = cfg.Subnet, cfg.IPRange, cfg.Gateway
	if !n.Gateway.IsValid() {
		n.Gateway = n.Subnet.Addr().Next()
	}
	return nil
}

// checkSubnet checks a user's subnet, IP range and gateway.
func checkSubnet(c apinet.IPAMConfig) error {
	sub := c.Subnet
	if !sub.Addr().Is4() || sub.Addr().Is4In6() {
		return errorf(errdefs.ErrNotImplemented, "subnet %s: only IPv4 subnets are supported", sub)
	}
	if sub.Masked() != sub {
		return errorf(errdefs.ErrInvalidArgument, "invalid subnet %s: it should be %s", sub, sub.Masked())
	}
	if sub.Bits() > 30 {
		return errorf(errdefs.ErrInvalidArgument, "invalid subnet %s: too small, the prefix length must be 30 or less", sub)
	}
	if r := c.IPRange; r.IsValid() {
		if r.Masked() != r || !r.Addr().Is4() {
			return errorf(errdefs.ErrInvalidArgument, "invalid ip-range %s: it should be %s", r, r.Masked())
		}
		if r.Bits() < sub.Bits() || !sub.Contains(r.Addr()) {
			return errorf(errdefs.ErrInvalidArgument, "ip-range %s is not inside subnet %s", r, sub)
		}
	}
	if gw := c.Gateway; gw.IsValid() {
		if !sub.Contains(gw) {
			return errorf(errdefs.ErrInvalidArgument, "gateway %s is not inside subnet %s", gw, sub)
		}
		v, base := u32(gw), u32(sub.Addr())
		if v == base || v == base|(uint32(1)<<(32-sub.Bits())-1) {
			return errorf(errdefs.ErrInvalidArgument, "gateway %s is the network or broadcast address of %s", gw, sub)
		}
	}
	if len(c.AuxAddress) > 0 {
		return errorf(errdefs.ErrNotImplemented, "auxiliary addresses are not supported")
	}
	return nil
}

// validName is dockerd's rule for network names.
func validName(s string) bool {
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && strings.ContainsRune("_.-", c)
		if !ok {
			return false
		}
	}
	return s != ""
}

// validIfName reports whether s can name a network interface (IFNAMSIZ,
// the kernel's dev_valid_name).
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsAny(s, "/: \t\n")
}

// down removes a network's DNS listener and host side (its bridge).
func (s *Service) down(n *Network) {
	d := s.drivers[n.Driver]
	if d == nil {
		return
	}
	if n.Driver == "bridge" && s.dns != nil && !n.Default {
		s.inNS(func() error { s.dns.Unlisten(n.Gateway); return nil })
	}
	if err := d.DeleteNetwork(n); err != nil {
		s.log.Warn("remove network's host side", "network", n.Name, "driver", n.Driver, "bridge", n.Bridge, "err", fmt.Sprint(err))
	}
}
