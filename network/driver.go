package network

import (
	"net"
	"net/netip"

	"github.com/berth-dev/berth/network/bridge"
)

// Driver makes one kind of network: what a network is on the host and
// how a container's interface on it is made. The service keeps the
// records, the addresses (IPAM), the embedded DNS and the rules; a
// driver only touches links. Drivers other than "bridge" are given in
// Options.Drivers by name (the value of docker network create -d).
//
// Every method may be called again for what already exists or is
// already gone (after a crash, at restore) and must then succeed.
type Driver interface {
	// CheckNetwork validates a network about to be created: n holds
	// the request (Options, Internal, Subnet and Gateway). It may add
	// defaults to n.Options and must change nothing on the host.
	CheckNetwork(n *Network) error
	// CreateNetwork makes the network's host side (a bridge, a parent
	// sub-interface). It runs at create and at each start of the
	// service for every network of the driver.
	CreateNetwork(n *Network) error
	// DeleteNetwork removes what CreateNetwork made.
	DeleteNetwork(n *Network) error
	// Join makes the container's interface ep.IfName in the network
	// namespace at netns, with ep.Address, ep.MAC and, when
	// defaultRoute is set, the default route via ep.Gateway. It may
	// set ep.HostIf, ep.MAC (when the link keeps its own) and, on a
	// network without a subnet, ep.Address; the service records them.
	// On error nothing is left.
	Join(n *Network, ep *Endpoint, netns string, defaultRoute bool) error
	// Leave undoes Join. netns is the path Join was given while the
	// service knows it ("" after berthd restarted for a container found
	// dead). It is called when the container stopped, so the namespace
	// may be gone, or the path may name another process's namespace
	// now: a driver touches only links it marked as its own.
	Leave(n *Network, ep *Endpoint, netns string) error
}

// SubnetOptional is implemented by a Driver whose networks may have no
// subnet (their endpoints bring their own addresses, as phys's): the
// service then takes none from the default pools.
type SubnetOptional interface {
	SubnetOptional() bool
}

// PortMapper is implemented by a Driver that publishes ports itself (a
// CNI network with the portmap plugin): the service reserves the host
// ports, as for a bridge, and hands them to Join in ep.Ports; it makes
// no nftables rules for them.
type PortMapper interface {
	MapsPorts() bool
}

// NameserverSource is implemented by a Driver whose endpoints come with
// their own DNS servers (a CNI result's "dns"): they go into the
// container's resolv.conf when no embedded DNS serves it.
type NameserverSource interface {
	Nameservers(n *Network, ep *Endpoint) []netip.Addr
}

// mapsPorts reports whether the driver of n publishes ports itself.
func (s *Service) mapsPorts(n *Network) bool {
	pm, ok := s.drivers[n.Driver].(PortMapper)
	return ok && pm.MapsPorts()
}

// bridgeDriver is the built-in bridge driver over *bridge.Driver. The
// service does the rest of a bridge network itself: the embedded DNS on
// the gateway, the nftables rules, published ports, and sweeping stray
// veths at restore.
type bridgeDriver struct{ d *bridge.Driver }

var _ Driver = bridgeDriver{}

func (b bridgeDriver) CheckNetwork(*Network) error { return nil }

func (b bridgeDriver) CreateNetwork(n *Network) error {
	return b.d.EnsureBridge(bridge.Bridge{Name: n.Bridge, Gateway: netip.PrefixFrom(n.Gateway, n.Subnet.Bits()), MTU: n.MTU})
}

func (b bridgeDriver) DeleteNetwork(n *Network) error { return b.d.DeleteBridge(n.Bridge) }

func (b bridgeDriver) Join(n *Network, ep *Endpoint, netns string, defaultRoute bool) error {
	var mac net.HardwareAddr
	if ep.MAC != "" {
		mac, _ = net.ParseMAC(ep.MAC)
	}
	return b.d.AddEndpoint(bridge.Endpoint{Bridge: n.Bridge, HostIf: ep.HostIf, NetNS: netns, IfName: ep.IfName,
		Address: ep.Address, Gateway: ep.Gateway, MAC: mac, MTU: n.MTU, DefaultRoute: defaultRoute})
}

func (b bridgeDriver) Leave(_ *Network, ep *Endpoint, _ string) error {
	return b.d.RemoveEndpoint(ep.HostIf)
}
