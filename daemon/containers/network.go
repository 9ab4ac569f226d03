package containers

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"

	netsvc "github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/dns"
	"github.com/berth-dev/berth/network/portmap"
)

// NetworkService connects containers to networks (network.Service): the
// methods of network.ContainerNetworks, and Inspect, which names a
// network by its ID, name or ID prefix.
type NetworkService interface {
	Validate(ctx context.Context, mode string, atts []netsvc.Attachment, ports []netsvc.PortBinding) error
	Attach(ctx context.Context, c netsvc.Container) (netsvc.Joined, error)
	Detach(ctx context.Context, containerID string) error
	Connect(ctx context.Context, c netsvc.Container, att netsvc.Attachment) (netsvc.Endpoint, error)
	Disconnect(ctx context.Context, containerID, network string, force bool) error
	Endpoints(containerID string) []netsvc.Endpoint
	Rename(ctx context.Context, containerID, name string) error
	Restore(ctx context.Context, running map[string]string) error
	Inspect(ctx context.Context, ref string) (network.Inspect, error)
}

// A container's networks are recorded as Docker records them, by network
// name, with what the user asked of each (aliases, static address, MAC)
// and the network's ID (record.Networks). They come from the network mode
// and the create request's endpoints, and change with connect and
// disconnect; every start attaches the container to them (the network
// mode's first: it gives the default route), every exit detaches it. The
// addresses, MACs and published ports of a run are the network service's
// (ctr.eps), which inspect and ps show.

// netNSPath is the network namespace of a container whose init is pid.
func netNSPath(pid int) string { return fmt.Sprintf("/proc/%d/ns/net", pid) }

// ownNetworks reports whether a network mode gets networks of its own
// (bridge and user networks), rather than the host's, another
// container's or none.
func ownNetworks(nm container.NetworkMode) bool {
	return !nm.IsHost() && !nm.IsNone() && !nm.IsContainer()
}

// planNetworks turns a create request's network mode and endpoints into
// the record's networks, and has the network service check them and the
// published ports; nil when the container has no networks of its own.
func (s *Service) planNetworks(ctx context.Context, req container.CreateRequest, hc *container.HostConfig,
	img *dockerspec.DockerOCIImage) (map[string]*network.EndpointSettings, []string, error) {
	nm := hc.NetworkMode
	published := len(hc.PortBindings) > 0 || hc.PublishAllPorts
	if s.o.Networks == nil {
		if !nm.IsHost() && published {
			return nil, []string{"Published ports are not published: berthd runs without its network service"}, nil
		}
		return nil, nil, nil
	}
	var asked map[string]*network.EndpointSettings
	if req.NetworkingConfig != nil {
		asked = req.NetworkingConfig.EndpointsConfig
	}
	primary := nm.NetworkName()
	if !ownNetworks(nm) {
		return nil, nil, checkNoOtherNetworks(nm, asked)
	}
	names := []string{primary}
	for name := range asked {
		if name != primary && name != string(nm) && name != network.NetworkDefault {
			names = append(names, name)
		}
	}
	sort.Strings(names[1:])
	nets := map[string]*network.EndpointSettings{}
	var warnings []string
	primaryName := ""
	for i, name := range names {
		if name == network.NetworkBridge && s.o.BridgeDisabled {
			if published {
				warnings = append(warnings, "Published ports are discarded: berthd runs without its default bridge network (--bridge=none)")
			}
			continue
		}
		n, err := s.o.Networks.Inspect(ctx, name)
		if errdefs.IsNotFound(err) {
			// Not a 404: the docker CLI answers a 404 to a create by
			// pulling the image. dockerd says 400 too.
			return nil, nil, errorf(errdefs.ErrInvalidArgument, "network %s not found", name)
		}
		if err != nil {
			return nil, nil, err
		}
		es := asked[name]
		if i == 0 && es == nil {
			es = asked[string(nm)]
		}
		if i == 0 && es == nil {
			es = asked[network.NetworkDefault]
		}
		if i == 0 {
			primaryName = n.Name
		}
		nets[n.Name] = endpointConfig(es, n.ID)
	}
	if len(nets) == 0 {
		// Only the default bridge, which berthd runs without.
		return nil, warnings, nil
	}
	ports, err := portmap.FromDocker(hc.PortBindings, exposedPorts(req.Config, img), hc.PublishAllPorts)
	if err != nil {
		return nil, nil, err
	}
	if err := s.o.Networks.Validate(ctx, string(nm), attachments(nets, primaryName), ports); err != nil {
		if errdefs.IsNotFound(err) {
			return nil, nil, errorf(errdefs.ErrInvalidArgument, "%s", err.Error())
		}
		return nil, nil, err
	}
	return nets, warnings, nil
}

// checkNoOtherNetworks refuses endpoints besides the network mode's own
// for the modes that share the host's or another container's network
// namespace, or have none.
func checkNoOtherNetworks(nm container.NetworkMode, asked map[string]*network.EndpointSettings) error {
	var others []string
	for name := range asked {
		if name != nm.NetworkName() && name != string(nm) {
			others = append(others, name)
		}
	}
	if len(others) == 0 {
		return nil
	}
	sort.Strings(others)
	if nm.IsNone() {
		return errorf(errdefs.ErrInvalidArgument, errNoneNetwork)
	}
	return errorf(errdefs.ErrInvalidArgument, "conflicting options: %s networking can't be used with other networks (%s)", nm.NetworkName(), strings.Join(others, ", "))
}

// exposedPorts are the ports a container exposes: the request's and the
// image's, as spec generation merges them.
func exposedPorts(cfg *container.Config, img *dockerspec.DockerOCIImage) network.PortSet {
	out := network.PortSet{}
	for p := range cfg.ExposedPorts {
		out[p] = struct{}{}
	}
	if img != nil {
		for k := range img.Config.ExposedPorts {
			if p, err := network.ParsePort(k); err == nil {
				out[p] = struct{}{}
			}
		}
	}
	return out
}

// endpointConfig keeps what a user asks of an endpoint (not what a run
// made of it), with the network's ID.
func endpointConfig(es *network.EndpointSettings, networkID string) *network.EndpointSettings {
	out := &network.EndpointSettings{NetworkID: networkID}
	if es != nil {
		out.IPAMConfig = es.IPAMConfig.Copy()
		out.Links = slices.Clone(es.Links)
		out.Aliases = slices.Clone(es.Aliases)
		out.DriverOpts = es.DriverOpts
		out.GwPriority = es.GwPriority
		out.MacAddress = slices.Clone(es.MacAddress)
	}
	return out
}

// attachment is what a container asks of the network named name.
func attachment(name string, es *network.EndpointSettings) netsvc.Attachment {
	a := netsvc.Attachment{Network: name}
	if es == nil {
		return a
	}
	a.Aliases = slices.Clone(es.Aliases)
	if es.IPAMConfig != nil {
		a.IPv4 = es.IPAMConfig.IPv4Address
	}
	if len(es.MacAddress) > 0 {
		a.MAC = es.MacAddress.String()
	}
	return a
}

// attachments are a container's networks in the order they are joined:
// the primary one (the network mode's) first, the others by name.
func attachments(nets map[string]*network.EndpointSettings, primary string) []netsvc.Attachment {
	names := make([]string, 0, len(nets))
	for name := range nets {
		if name != primary {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := nets[primary]; ok {
		names = append([]string{primary}, names...)
	}
	out := make([]netsvc.Attachment, 0, len(names))
	for _, name := range names {
		out = append(out, attachment(name, nets[name]))
	}
	return out
}

// primaryNetwork is the key of nets that the network mode names (by name,
// ID or ID prefix); "" when the container left it.
func primaryNetwork(nets map[string]*network.EndpointSettings, nm container.NetworkMode) string {
	want := nm.NetworkName()
	if nm.IsDefault() {
		want = network.NetworkBridge
	}
	if _, ok := nets[want]; ok {
		return want
	}
	for name, es := range nets {
		if es != nil && es.NetworkID != "" && strings.HasPrefix(es.NetworkID, want) {
			return name
		}
	}
	return ""
}

// networksOf are the networks a record says the container joins: those
// recorded, or for a record made before networks were, the network mode's.
// The caller holds c.mu.
func (s *Service) networksOf(r *record) map[string]*network.EndpointSettings {
	if s.o.Networks == nil || !ownNetworks(r.HostConfig.NetworkMode) {
		return nil
	}
	if r.Networks != nil {
		return r.Networks
	}
	name := r.HostConfig.NetworkMode.NetworkName()
	if r.HostConfig.NetworkMode.IsDefault() {
		name = network.NetworkBridge
	}
	if name == network.NetworkBridge && s.o.BridgeDisabled {
		return nil
	}
	return map[string]*network.EndpointSettings{name: {}}
}

// attach connects a container whose init is pid to its networks, writes
// its /etc/hosts and resolv.conf for them and publishes the connect
// events. On error nothing is left attached.
func (s *Service) attach(ctx context.Context, c *ctr, pid int) (err error) {
	c.mu.Lock()
	r := c.rec
	nets := s.networksOf(r)
	atts := attachments(nets, primaryNetwork(nets, r.HostConfig.NetworkMode))
	cfg, hc := r.Config, r.HostConfig
	nc := netsvc.Container{ID: c.id, Name: r.Name, Hostname: cfg.Hostname, NetNS: netNSPath(pid), Attachments: atts,
		DNS: slices.Clone(hc.DNS)}
	c.mu.Unlock()
	if len(atts) == 0 {
		return nil
	}
	nc.Ports, err = portmap.FromDocker(hc.PortBindings, cfg.ExposedPorts, hc.PublishAllPorts)
	if err != nil {
		return err
	}
	joined, err := s.o.Networks.Attach(ctx, nc)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if derr := s.o.Networks.Detach(context.WithoutCancel(ctx), c.id); derr != nil {
				s.log.Warn("detach the networks of a container that failed to start", "container", c.id, "error", derr)
			}
		}
	}()
	if err := s.writeNetConfig(ctx, c.id, cfg, hc, joined.Endpoints, joined.Nameservers); err != nil {
		return err
	}
	c.mu.Lock()
	c.eps = joined.Endpoints
	c.nameservers = joined.Nameservers
	for _, ep := range joined.Endpoints {
		if es := nets[ep.NetworkName]; es != nil {
			es.NetworkID = ep.NetworkID
		}
	}
	c.mu.Unlock()
	for _, ep := range joined.Endpoints {
		s.publishNetwork(ctx, events.ActionConnect, c.id, ep.NetworkID)
	}
	return nil
}

// detach takes a container off its networks after a failed start, and
// publishes the disconnect events.
func (s *Service) detach(ctx context.Context, c *ctr) {
	s.publishDisconnects(ctx, c.id, s.leaveNetworks(ctx, c))
}

// leaveNetworks takes a container off its networks, after its exit or a
// failed start, and returns the endpoints it had, whose disconnect events
// the caller publishes (after the die event at an exit, as dockerd's
// order is). Failures are logged, for there is nothing to return them to.
func (s *Service) leaveNetworks(ctx context.Context, c *ctr) []netsvc.Endpoint {
	if s.o.Networks == nil {
		return nil
	}
	c.mu.Lock()
	eps := c.eps
	c.eps, c.nameservers = nil, nil
	networked := len(s.networksOf(c.rec)) > 0
	c.mu.Unlock()
	if !networked && len(eps) == 0 {
		return nil
	}
	if err := s.o.Networks.Detach(ctx, c.id); err != nil {
		s.log.Warn("detach a container from its networks", "container", c.id, "error", err)
	}
	return eps
}

// publishDisconnects publishes a network disconnect event per endpoint.
func (s *Service) publishDisconnects(ctx context.Context, id string, eps []netsvc.Endpoint) {
	for _, ep := range eps {
		s.publishNetwork(ctx, events.ActionDisconnect, id, ep.NetworkID)
	}
}

// restoreNetworks hands the network service the containers still
// running after a restart of berthd, so that it keeps their endpoints
// and removes every other, and takes their endpoints back.
func (s *Service) restoreNetworks(ctx context.Context) error {
	if s.o.Networks == nil {
		return nil
	}
	running := map[string]string{}
	var cs []*ctr
	for _, c := range s.all() {
		c.mu.Lock()
		if c.sh != nil && c.sh.Pid() > 0 {
			running[c.id] = netNSPath(c.sh.InitPid())
			cs = append(cs, c)
		}
		c.mu.Unlock()
	}
	if err := s.o.Networks.Restore(ctx, running); err != nil {
		return fmt.Errorf("restore the containers' network endpoints: %w", err)
	}
	for _, c := range cs {
		eps := s.o.Networks.Endpoints(c.id)
		c.mu.Lock()
		c.eps = eps
		c.mu.Unlock()
	}
	return nil
}

// publishNetwork sends a network event about a container, with the
// attributes dockerd gives: the container, the network's name and type.
func (s *Service) publishNetwork(ctx context.Context, action events.Action, containerID, networkID string) {
	attrs := map[string]string{"container": containerID}
	if n, err := s.o.Networks.Inspect(ctx, networkID); err == nil {
		attrs["name"], attrs["type"] = n.Name, n.Driver
	}
	s.o.Events.Publish(events.Message{Type: events.NetworkEventType, Action: action,
		Actor: events.Actor{ID: networkID, Attributes: attrs}})
}

// writeNetConfig writes the /etc/hosts and /etc/resolv.conf of a
// container on networks: the container's own addresses with its
// hostname (and its aliases), and the embedded DNS server when a user
// network has one. The runtime has bound the files into the container
// already, so they are rewritten in place, not replaced.
func (s *Service) writeNetConfig(ctx context.Context, id string, cfg *container.Config, hc *container.HostConfig, eps []netsvc.Endpoint, nameservers []netip.Addr) error {
	f := s.netFilePaths(id)
	hosts, err := hostsFile(false, s.withHostGateway(ctx, hc).ExtraHosts, nil)
	if err != nil {
		return err
	}
	hosts = append(hosts, ownHosts(cfg, eps)...)
	var resolv []byte
	if len(nameservers) > 0 {
		// The embedded DNS answers the names of the network and forwards
		// the others, to the --dns servers when there are some (the
		// network service has them), as Docker's does.
		resolv = dns.ResolvConf(readHostFile(hostResolvConf), nameservers, hc.DNSSearch, hc.DNSOptions)
	} else {
		resolv = resolvConf(false, readHostFile(hostResolvConf), readHostFile(upstreamResolvConf), hc)
	}
	for _, w := range []struct {
		path string
		data []byte
	}{{f.Hosts, hosts}, {f.ResolvConf, resolv}} {
		if err := rewriteFile(w.path, w.data); err != nil {
			return err
		}
	}
	return nil
}

// ownHosts are /etc/hosts lines naming the container's addresses: its
// hostname (qualified by its domain name first when it has one), and on
// user networks its aliases.
func ownHosts(cfg *container.Config, eps []netsvc.Endpoint) []byte {
	var b strings.Builder
	names := cfg.Hostname
	if cfg.Domainname != "" {
		names = cfg.Hostname + "." + cfg.Domainname + "\t" + cfg.Hostname
	}
	for _, ep := range eps {
		if !ep.Address.IsValid() {
			continue
		}
		b.WriteString(ep.Address.Addr().String() + "\t" + names)
		for _, a := range ep.Aliases {
			if a != cfg.Hostname {
				b.WriteString(" " + a)
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// rewriteFile writes data over the file at path, in place: a bind mount
// of it shows the new content, as it would not show a renamed file.
func rewriteFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// macOf parses an endpoint's MAC address; nil when it is not one.
func macOf(s string) network.HardwareAddr {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return nil
	}
	return network.HardwareAddr(hw)
}

// withHostGateway is hc with "host-gateway" of --add-host replaced by
// the default bridge's gateway, as dockerd resolves it; hc itself when
// no entry names it or there is no default bridge (hostsFile refuses it
// then).
func (s *Service) withHostGateway(ctx context.Context, hc *container.HostConfig) *container.HostConfig {
	isGW := func(e string) bool {
		return strings.HasSuffix(e, ":host-gateway") || strings.HasSuffix(e, "=host-gateway")
	}
	if s.o.Networks == nil || s.o.BridgeDisabled || !slices.ContainsFunc(hc.ExtraHosts, isGW) {
		return hc
	}
	n, err := s.o.Networks.Inspect(ctx, network.NetworkBridge)
	if err != nil || len(n.IPAM.Config) == 0 || !n.IPAM.Config[0].Gateway.IsValid() {
		return hc
	}
	gw := n.IPAM.Config[0].Gateway.String()
	c := *hc
	c.ExtraHosts = make([]string, len(hc.ExtraHosts))
	for i, e := range hc.ExtraHosts {
		if isGW(e) {
			e = e[:len(e)-len("host-gateway")] + gw
		}
		c.ExtraHosts[i] = e
	}
	return &c
}
