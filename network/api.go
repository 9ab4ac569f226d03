package network

import (
	"context"
	"github.com/berth-dev/berth/internal/filters"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	apinet "github.com/moby/moby/api/types/network"
)

// List answers GET /networks: the networks passing the filters (driver,
// id, label, name, scope, type, dangling), by name.
func (s *Service) List(ctx context.Context, filters map[string][]string) ([]apinet.Summary, error) {
	f, err := parseFilters(filters, "driver", "id", "label", "name", "scope", "type", "dangling")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []apinet.Summary{}
	for _, n := range s.sortedNetworksLocked() {
		if f.match(n, s.hasEndpointsLocked(n.ID)) {
			out = append(out, apinet.Summary{Network: s.apiNetworkLocked(n)})
		}
	}
	return out, nil
}

// Inspect answers GET /networks/{id}: the network with the containers on
// it (from the endpoints) and its address use.
func (s *Service) Inspect(ctx context.Context, ref string) (apinet.Inspect, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.findLocked(ref)
	if err != nil {
		return apinet.Inspect{}, err
	}
	out := apinet.Inspect{Network: s.apiNetworkLocked(n), Containers: map[string]apinet.EndpointResource{}}
	for _, e := range s.endpointsOfLocked(func(e *Endpoint) bool { return e.NetworkID == n.ID }) {
		hw, _ := net.ParseMAC(e.MAC)
		mac := apinet.HardwareAddr(hw)
		out.Containers[e.ContainerID] = apinet.EndpointResource{Name: e.ContainerName, EndpointID: e.ID,
			MacAddress: mac, IPv4Address: e.Address}
	}
	if n.Subnet.IsValid() {
		used, free := s.inUseLocked(n)
		out.Status = &apinet.Status{IPAM: apinet.IPAMStatus{Subnets: apinet.SubnetStatuses{
			n.Subnet: {IPsInUse: used, DynamicIPsAvailable: free}}}}
	}
	return out, nil
}

func (s *Service) hasEndpointsLocked(id string) bool {
	if len(s.used[id]) > 0 {
		return true
	}
	for _, e := range s.eps { // endpoints without an address (phys)
		if e.NetworkID == id {
			return true
		}
	}
	return false
}

// apiNetworkLocked is the record in the API's words.
func (s *Service) apiNetworkLocked(n *Network) apinet.Network {
	out := apinet.Network{Name: n.Name, ID: n.ID, Created: n.Created, Scope: n.Scope, Driver: n.Driver,
		EnableIPv4: true, EnableIPv6: n.EnableIPv6, Internal: n.Internal,
		IPAM:    apinet.IPAM{Driver: "default", Options: map[string]string{}, Config: []apinet.IPAMConfig{}},
		Options: maps.Clone(n.Options), Labels: maps.Clone(n.Labels)}
	if n.Subnet.IsValid() {
		out.IPAM.Config = append(out.IPAM.Config, apinet.IPAMConfig{Subnet: n.Subnet, IPRange: n.IPRange, Gateway: n.Gateway})
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
}

// Remove answers DELETE /networks/{id}: a user network without
// endpoints goes.
func (s *Service) Remove(ctx context.Context, ref string) error {
	s.mu.Lock()
	n, err := s.findLocked(ref)
	if err == nil {
		err = s.takeLocked(n)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.finishRemove(n); err != nil {
		return err
	}
	return s.applyRules()
}

// takeLocked checks that n may go and takes it out of the map, so no
// container joins it any more.
func (s *Service) takeLocked(n *Network) error {
	if isPredefined(n) {
		return errorf(errdefs.ErrPermissionDenied, "%s is a pre-defined network and cannot be removed", n.Name)
	}
	if s.hasEndpointsLocked(n.ID) {
		return errorf(errdefs.ErrPermissionDenied, "error while removing network: network %s has active endpoints", n.Name)
	}
	delete(s.networks, n.ID)
	return nil
}

// finishRemove removes a taken network's bridge and DNS listener, then
// its record (outside the lock: a DNS query in flight may need it). The
// bridge goes first: a crash in between leaves a network whose bridge
// New makes again, never a bridge nobody owns. On error the network is
// put back.
func (s *Service) finishRemove(n *Network) error {
	s.down(n)
	s.mu.Lock()
	err := deleteKey(s.o.DB, networksBucket, n.ID)
	if err != nil {
		s.networks[n.ID] = n
	} else {
		delete(s.used, n.ID)
	}
	s.mu.Unlock()
	if err != nil {
		if uerr := s.up(n); uerr != nil {
			s.log.Warn("undo network removal", "network", n.Name, "err", uerr)
		}
		return errorf(errdefs.ErrUnknown, "error while removing network: %v", err)
	}
	return nil
}

func isPredefined(n *Network) bool {
	return n.Default || n.Driver == "host" || n.Driver == "null"
}

// Prune answers POST /networks/prune: every user network without
// endpoints that passes the filters (until, label, label!) goes.
func (s *Service) Prune(ctx context.Context, filters map[string][]string) (apinet.PruneReport, error) {
	f, err := parseFilters(filters, "until", "label", "label!")
	if err != nil {
		return apinet.PruneReport{}, err
	}
	var taken []*Network
	s.mu.Lock()
	for _, n := range s.sortedNetworksLocked() {
		if isPredefined(n) || s.hasEndpointsLocked(n.ID) || !f.match(n, false) {
			continue
		}
		if s.takeLocked(n) == nil {
			taken = append(taken, n)
		}
	}
	s.mu.Unlock()
	rep := apinet.PruneReport{NetworksDeleted: []string{}}
	var gone []*Network
	for _, n := range taken {
		if err := s.finishRemove(n); err != nil {
			s.logger(ctx).Warn("prune network", "network", n.Name, "err", err)
			continue
		}
		gone = append(gone, n)
		rep.NetworksDeleted = append(rep.NetworksDeleted, n.Name)
	}
	if len(gone) > 0 {
		if err := s.applyRules(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// filter is a parsed set of network filters: every key must match, any
// value of a key may.
type filter struct {
	drivers, ids, names, scopes, labels, notLabels []string
	custom, builtin                                bool
	dangling                                       *bool
	until                                          time.Time
}

func parseFilters(in map[string][]string, allowed ...string) (*filter, error) {
	f := &filter{}
	for k, vs := range in {
		if !slices.Contains(allowed, k) {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s'", k)
		}
		switch k {
		case "driver":
			f.drivers = vs
		case "id":
			f.ids = vs
		case "name":
			f.names = vs
		case "scope":
			f.scopes = vs
		case "label":
			f.labels = vs
		case "label!":
			f.notLabels = vs
		case "type":
			for _, v := range vs {
				switch v {
				case "custom":
					f.custom = true
				case "builtin":
					f.builtin = true
				default:
					return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter: 'type'='%s'", v)
				}
			}
		case "dangling":
			for _, v := range vs {
				b, err := filters.Bool("dangling", v)
				if err != nil {
					return nil, err
				}
				f.dangling = &b
			}
		case "until":
			for _, v := range vs {
				t, err := filters.Until(v, time.Now())
				if err != nil {
					return nil, err
				}
				f.until = t
			}
		}
	}
	return f, nil
}

func (f *filter) match(n *Network, inUse bool) bool {
	if len(f.drivers) > 0 && !slices.Contains(f.drivers, n.Driver) {
		return false
	}
	if len(f.scopes) > 0 && !slices.Contains(f.scopes, n.Scope) {
		return false
	}
	if len(f.ids) > 0 && !slices.ContainsFunc(f.ids, func(p string) bool { return strings.HasPrefix(n.ID, p) }) {
		return false
	}
	if len(f.names) > 0 && !slices.ContainsFunc(f.names, func(p string) bool { return filters.Name(p, n.Name) }) {
		return false
	}
	if f.custom != f.builtin && f.custom == isPredefined(n) {
		return false
	}
	if f.dangling != nil && *f.dangling == (inUse || isPredefined(n)) {
		return false
	}
	if !f.until.IsZero() && !n.Created.Before(f.until) {
		return false
	}
	return filters.Labels(n.Labels, f.labels, f.notLabels)
}
