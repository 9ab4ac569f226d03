package cni

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/network"
)

// OptNetwork is the driver option naming a network's CNI configuration
// (docker network create -d cni -o cni.network=NAME); without it, the
// configuration whose name is the network's own.
const OptNetwork = "cni.network"

// Driver is berth's network driver "cni": a network's containers are
// attached by the plugins of its CNI configuration, which also give
// the addresses (the configuration's IPAM), so the network has no
// subnet of berth's.
type Driver struct{ r *Runner }

var (
	_ network.Driver           = (*Driver)(nil)
	_ network.SubnetOptional   = (*Driver)(nil)
	_ network.PortMapper       = (*Driver)(nil)
	_ network.NameserverSource = (*Driver)(nil)
)

// NewDriver is the network driver over r.
func NewDriver(r *Runner) *Driver { return &Driver{r: r} }

// MapsPorts: published ports go to the plugins with the portMappings
// capability (portmap), with the host ports berth reserved.
func (d *Driver) MapsPorts() bool { return true }

// SubnetOptional: the configuration's IPAM gives the addresses.
func (d *Driver) SubnetOptional() bool { return true }

// CheckNetwork checks that the configuration exists and parses, and
// refuses what the plugins, not berth, decide.
func (d *Driver) CheckNetwork(n *network.Network) error {
	name := confName(n)
	if n.Subnet.IsValid() || n.Gateway.IsValid() || n.IPRange.IsValid() {
		return fmt.Errorf("network %s: the CNI configuration's IPAM gives the addresses: no --subnet, --gateway or --ip-range: %w", n.Name, errdefs.ErrInvalidArgument)
	}
	if n.Internal {
		return fmt.Errorf("network %s: --internal is not supported by the cni driver (the plugins make the routes): %w", n.Name, errdefs.ErrInvalidArgument)
	}
	if _, err := d.r.Load(name); err != nil {
		return err
	}
	n.Options[OptNetwork] = name
	return nil
}

func confName(n *network.Network) string {
	if v := n.Options[OptNetwork]; v != "" {
		return v
	}
	return n.Name
}

// CreateNetwork has nothing to make: the plugins make their bridges at
// the first ADD.
func (d *Driver) CreateNetwork(*network.Network) error { return nil }

// DeleteNetwork leaves the plugins' host side (a bridge): the CNI
// plugins never remove it, and other runtimes may share it.
func (d *Driver) DeleteNetwork(*network.Network) error { return nil }

// Join runs ADD for the container's interface ep.IfName and records
// the address the plugins gave (the first IPv4 one on that interface).
func (d *Driver) Join(n *network.Network, ep *network.Endpoint, netns string, _ bool) error {
	l, err := d.r.Load(confName(n))
	if err != nil {
		return err
	}
	if len(ep.Ports) > 0 && !slices.ContainsFunc(l.Plugins, func(p Plugin) bool { return p.Capabilities["portMappings"] }) {
		return fmt.Errorf("cni network %s: published ports need a plugin with the portMappings capability (such as portmap) in the configuration: %w",
			confName(n), errdefs.ErrInvalidArgument)
	}
	a := Attachment{ContainerID: ep.ContainerID, NetNS: netns, IfName: ep.IfName}
	// Published ports, when the service hands them to the driver, go
	// to the plugins with the portMappings capability (portmap).
	for _, p := range ep.Ports {
		pm := PortMapping{HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
		if p.HostIP.IsValid() {
			pm.HostIP = p.HostIP.String()
		}
		a.PortMappings = append(a.PortMappings, pm)
	}
	if ep.Address.IsValid() {
		a.IPs = append(a.IPs, ep.Address)
	}
	res, err := d.r.Add(context.Background(), l, a)
	if err != nil {
		return err
	}
	for _, ip := range res.Addresses(ep.IfName) {
		if ip.Address.Addr().Is4() {
			ep.Address, ep.Gateway = ip.Address, ip.Gateway
			break
		}
	}
	if mac := res.MAC(ep.IfName); mac != "" {
		ep.MAC = mac
	}
	return nil
}

// Leave runs DEL with what the cache kept of the ADD (the configuration
// as it was, so a changed or removed conflist still undoes it).
func (d *Driver) Leave(n *network.Network, ep *network.Endpoint, netns string) error {
	name := confName(n)
	ctx := context.Background()
	l, err := d.r.Load(name)
	if errors.Is(err, errdefs.ErrNotFound) {
		return d.r.DelCached(ctx, Cached{Network: name, ContainerID: ep.ContainerID, IfName: ep.IfName, NetNS: netns})
	}
	if err != nil {
		return err
	}
	return d.r.Del(ctx, l, Attachment{ContainerID: ep.ContainerID, NetNS: netns, IfName: ep.IfName})
}

// Nameservers are the DNS servers the plugins' result gave the
// container's interface (its "dns" section), for its resolv.conf.
func (d *Driver) Nameservers(n *network.Network, ep *network.Endpoint) []netip.Addr {
	res, err := d.r.Result(confName(n), ep.ContainerID, ep.IfName)
	if err != nil || res == nil {
		return nil
	}
	return res.Nameservers()
}
