package containers

import (
	"context"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	netsvc "github.com/berth-dev/berth/network"
)

// dockerd's words for connects its network modes forbid.
const (
	errSharedNetwork = "container sharing network namespace with another container or host cannot be connected to any other network"
	errHostNetwork   = "container cannot be disconnected from host network or connected to host network"
	errNoneNetwork   = "container cannot be connected to multiple networks with one of the networks in private (none) mode"
)

// ConnectNetwork joins a container to one more network (docker network
// connect): a running one at once, and each later start; a created or
// stopped one from its next start.
func (s *Service) ConnectNetwork(ctx context.Context, ref, netRef string, settings *network.EndpointSettings) error {
	if s.o.Networks == nil {
		return errorf(errdefs.ErrNotImplemented, "berthd runs without its network service")
	}
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	n, err := s.findNetwork(ctx, netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	r := c.rec
	nm, name, hostname, sh := r.HostConfig.NetworkMode, r.Name, r.Config.Hostname, c.sh
	servers := slices.Clone(r.HostConfig.DNS)
	nets := s.networksOf(r)
	_, already := nets[n.Name]
	c.mu.Unlock()
	switch {
	case n.Driver == "host" || nm.IsHost() && n.Name == network.NetworkHost:
		return errorf(errdefs.ErrPermissionDenied, errHostNetwork)
	case nm.IsHost() || nm.IsContainer():
		return errorf(errdefs.ErrPermissionDenied, errSharedNetwork)
	case nm.IsNone() || n.Driver == "null":
		return errorf(errdefs.ErrPermissionDenied, errNoneNetwork)
	case already:
		return errorf(errdefs.ErrPermissionDenied, "endpoint with name %s already exists in network %s", name, n.Name)
	}
	es := endpointConfig(settings, n.ID)
	att := attachment(n.Name, es)
	if sh == nil || sh.Pid() == 0 {
		if err := s.o.Networks.Validate(ctx, string(nm), []netsvc.Attachment{att}, nil); err != nil {
			return err
		}
		return s.setNetwork(c, n.Name, es)
	}
	ep, err := s.o.Networks.Connect(ctx, netsvc.Container{ID: c.id, Name: name, Hostname: hostname,
		NetNS: netNSPath(sh.InitPid()), Attachments: []netsvc.Attachment{att}, DNS: servers}, att)
	if err != nil {
		return err
	}
	c.mu.Lock()
	still := c.sh == sh
	if still {
		c.eps = append(c.eps, ep)
	}
	c.mu.Unlock()
	if !still {
		// It ended meanwhile, and its exit detached what it had then.
		if derr := s.o.Networks.Disconnect(context.WithoutCancel(ctx), c.id, n.Name, true); derr != nil {
			s.log.Warn("disconnect a container that ended while it was connected", "container", c.id, "error", derr)
		}
		return errorf(errdefs.ErrConflict, "container %s ended while it was being connected to network %s", c.id, n.Name)
	}
	if err := s.setNetwork(c, n.Name, es); err != nil {
		if derr := s.o.Networks.Disconnect(context.WithoutCancel(ctx), c.id, n.Name, true); derr != nil {
			s.log.Warn("disconnect a container whose connect was not recorded", "container", c.id, "error", derr)
		}
		s.dropEndpoint(c, n.Name, n.ID)
		return err
	}
	s.refreshNetConfig(c)
	s.publishNetwork(ctx, events.ActionConnect, c.id, n.ID)
	return nil
}

// DisconnectNetwork takes a container off a network (docker network
// disconnect). With force, a container that is gone can still have its
// endpoint removed.
func (s *Service) DisconnectNetwork(ctx context.Context, ref, netRef string, force bool) error {
	if s.o.Networks == nil {
		return errorf(errdefs.ErrNotImplemented, "berthd runs without its network service")
	}
	c, err := s.getLocked(ctx, ref)
	if errdefs.IsNotFound(err) && force {
		return s.o.Networks.Disconnect(ctx, ref, netRef, true)
	}
	if err != nil {
		return err
	}
	defer c.unlock()
	n, err := s.findNetwork(ctx, netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	nm, sh := c.rec.HostConfig.NetworkMode, c.sh
	nets := s.networksOf(c.rec)
	key := ""
	for k, es := range nets {
		if k == n.Name || es != nil && es.NetworkID == n.ID {
			key = k
		}
	}
	c.mu.Unlock()
	switch {
	case n.Driver == "host" || nm.IsHost():
		return errorf(errdefs.ErrPermissionDenied, errHostNetwork)
	case key == "":
		return errorf(errdefs.ErrInvalidArgument, "container %s is not connected to network %s", c.id, n.Name)
	}
	running := sh != nil && sh.Pid() > 0
	if running {
		if err := s.o.Networks.Disconnect(ctx, c.id, n.Name, force); err != nil {
			return err
		}
		s.dropEndpoint(c, key, n.ID)
	}
	if err := s.setNetwork(c, key, nil); err != nil {
		return err
	}
	if running {
		s.refreshNetConfig(c)
		s.publishNetwork(ctx, events.ActionDisconnect, c.id, n.ID)
	}
	return nil
}

// findNetwork finds a network by ID, name or ID prefix, as dockerd answers
// one it does not know.
func (s *Service) findNetwork(ctx context.Context, ref string) (network.Inspect, error) {
	n, err := s.o.Networks.Inspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return n, errorf(errdefs.ErrNotFound, "network %s not found", ref)
	}
	return n, err
}

// setNetwork records the container's settings on a network (nil: off
// it), making the record's list of networks from its network mode when it
// had none.
func (s *Service) setNetwork(c *ctr, name string, es *network.EndpointSettings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.rec.Networks
	nets := map[string]*network.EndpointSettings{}
	for k, v := range s.networksOf(c.rec) {
		nets[k] = v
	}
	if es == nil {
		delete(nets, name)
	} else {
		nets[name] = es
	}
	c.rec.Networks = nets
	if err := s.save(c); err != nil {
		c.rec.Networks = old
		return err
	}
	return nil
}

// dropEndpoint forgets the container's endpoint on a network.
func (s *Service) dropEndpoint(c *ctr, name, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.eps[:0:0]
	for _, ep := range c.eps {
		if ep.NetworkName != name && ep.NetworkID != id {
			kept = append(kept, ep)
		}
	}
	c.eps = kept
}

// refreshNetConfig writes a running container's /etc/hosts and
// resolv.conf again for the endpoints it has now.
func (s *Service) refreshNetConfig(c *ctr) {
	c.mu.Lock()
	cfg, hc, eps, ns := c.rec.Config, c.rec.HostConfig, c.eps, c.nameservers
	c.mu.Unlock()
	if err := s.writeNetConfig(context.Background(), c.id, cfg, hc, eps, ns); err != nil {
		s.log.Warn("rewrite the network files of a container", "container", c.id, "error", err)
	}
}
