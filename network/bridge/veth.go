package bridge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/netlab"
)

// Endpoint is one container's place on a bridge.
type Endpoint struct {
	Bridge  string
	HostIf  string // the host end's name (HostIfName of the endpoint's ID)
	NetNS   string // path of the container's network namespace
	IfName  string // the container end's name: eth0, eth1, …
	Address netip.Prefix
	Gateway netip.Addr
	MAC     net.HardwareAddr // nil: MAC(Address.Addr())
	MTU     int              // 0: the bridge's
	// DefaultRoute adds "default via Gateway" in the container.
	DefaultRoute bool
}

// HostIfName is the host end's name for an endpoint ID: "veth" and the
// first 11 characters of the ID, the longest a link name may be.
func HostIfName(endpointID string) string {
	if len(endpointID) > 11 {
		endpointID = endpointID[:11]
	}
	return "veth" + endpointID
}

// MAC is the address Docker derives from an IPv4 address: 02:42 and the
// address's four bytes.
func MAC(a netip.Addr) net.HardwareAddr {
	b := a.Unmap().As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// AddEndpoint makes the veth pair: the host end on the bridge and up,
// the other end in the container's namespace as IfName with the address,
// the MAC, up, and the default route when asked. On error nothing is
// left: removing the host end removes the pair.
func (d *Driver) AddEndpoint(e Endpoint) (err error) {
	br, err := d.h.LinkByName(e.Bridge)
	if err != nil {
		return fmt.Errorf("look up bridge %s: %w", e.Bridge, err)
	}
	ns, err := netns.GetFromPath(e.NetNS)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", e.NetNS, err)
	}
	defer ns.Close()
	mtu := e.MTU
	if mtu == 0 {
		mtu = br.Attrs().MTU
	}
	mac := e.MAC
	if mac == nil {
		mac = MAC(e.Address.Addr())
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = e.HostIf
	attrs.MTU = mtu
	attrs.MasterIndex = br.Attrs().Index
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: e.IfName, PeerMTU: uint32(mtu),
		PeerHardwareAddr: mac, PeerNamespace: netlink.NsFd(ns)}
	if err := d.h.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s for %s: %w", e.HostIf, e.IfName, err)
	}
	defer func() {
		if err != nil {
			_ = d.RemoveEndpoint(e.HostIf)
		}
	}()
	// Hairpin: with br_netfilter, a container's connection to its own
	// published port is DNATed in the bridge's prerouting and bridged
	// straight back out of the port it came in by, which a bridge port
	// refuses unless in hairpin mode.
	if err := d.h.LinkSetHairpin(veth, true); err != nil {
		return fmt.Errorf("set hairpin mode on %s: %w", e.HostIf, err)
	}
	if err := d.h.LinkSetUp(veth); err != nil {
		return fmt.Errorf("bring up %s: %w", e.HostIf, err)
	}
	return configure(ns, e)
}

// configure sets the container's end up inside its namespace.
func configure(ns netns.NsHandle, e Endpoint) error {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink in %s: %w", e.NetNS, err)
	}
	defer h.Close()
	l, err := h.LinkByName(e.IfName)
	if err != nil {
		return fmt.Errorf("look up %s in %s: %w", e.IfName, e.NetNS, err)
	}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(e.Address)}); err != nil {
		return fmt.Errorf("add address %s to %s: %w", e.Address, e.IfName, err)
	}
	// The networks are IPv4-only: IPv6 is off on the container's
	// interface, as Docker does, which also keeps a neighbour's router
	// advertisements from configuring it.
	if err := netlab.In(ns, func() error { return disableIPv6(e.IfName) }); err != nil {
		return fmt.Errorf("disable IPv6 on %s: %w", e.IfName, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", e.IfName, err)
	}
	if e.DefaultRoute && e.Gateway.IsValid() {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.IP(e.Gateway.AsSlice()), Scope: netlink.SCOPE_UNIVERSE}
		if err := h.RouteAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add default route via %s on %s: %w", e.Gateway, e.IfName, err)
		}
	}
	return nil
}

// disableIPv6 turns IPv6 off on the interface ifName of the calling
// thread's network namespace; a kernel without IPv6 has nothing to turn
// off.
func disableIPv6(ifName string) error {
	err := os.WriteFile("/proc/sys/net/ipv6/conf/"+ifName+"/disable_ipv6", []byte("1"), 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// RemoveEndpoint removes the host end of a veth pair, and so the pair; a
// missing link is no error.
func (d *Driver) RemoveEndpoint(hostIf string) error {
	l, err := d.h.LinkByName(hostIf)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", hostIf, err)
	}
	if l.Type() != "veth" {
		return nil
	}
	if err := d.h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", hostIf, err)
	}
	return nil
}
