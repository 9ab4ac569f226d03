package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Driver makes bridges and veth pairs in one network namespace. It is
// safe for concurrent use.
type Driver struct {
	h *netlink.Handle
}

// New returns a driver working in the network namespace at path; an
// empty path is the namespace of the calling thread. The namespace is
// fixed when New returns: the driver's netlink sockets belong to it
// whatever thread uses them later.
func New(path string) (*Driver, error) {
	if path == "" {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("open netlink: %w", err)
		}
		return &Driver{h: h}, nil
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink in %s: %w", path, err)
	}
	return &Driver{h: h}, nil
}

// Close releases the driver's netlink sockets.
func (d *Driver) Close() { d.h.Close() }

// Bridge is a bridge device as the network service wants it.
type Bridge struct {
	Name    string
	Gateway netip.Prefix // the gateway address with the subnet's length
	MTU     int          // 0: the kernel's default
}

// EnsureBridge makes the bridge if it is missing, gives it the gateway
// address if it lacks it and brings it up. An existing link of that name
// that is not a bridge is an error.
func (d *Driver) EnsureBridge(b Bridge) error {
	l, err := d.h.LinkByName(b.Name)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("look up bridge %s: %w", b.Name, err)
	}
	if l == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = b.Name
		if b.MTU > 0 {
			attrs.MTU = b.MTU
		}
		if err := d.h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", b.Name, err)
		}
		if l, err = d.h.LinkByName(b.Name); err != nil {
			return fmt.Errorf("look up bridge %s: %w", b.Name, err)
		}
	}
	if l.Type() != "bridge" {
		return fmt.Errorf("bridge %s: a link of type %s has that name: %w", b.Name, l.Type(), errdefs.ErrConflict)
	}
	// A bridge without an address of its own takes the lowest of its
	// ports' and changes it as containers come and go, so the
	// containers' ARP entries for the gateway would go stale (packets
	// to the gateway then reach another container): give it one, from
	// the gateway address as the containers' MACs are.
	if b.Gateway.IsValid() {
		if mac := MAC(b.Gateway.Addr()); !bytes.Equal(l.Attrs().HardwareAddr, mac) {
			if err := d.h.LinkSetHardwareAddr(l, mac); err != nil {
				return fmt.Errorf("set address %s on bridge %s: %w", mac, b.Name, err)
			}
		}
	}
	if b.MTU > 0 && l.Attrs().MTU != b.MTU {
		if err := d.h.LinkSetMTU(l, b.MTU); err != nil {
			return fmt.Errorf("set mtu %d on bridge %s: %w", b.MTU, b.Name, err)
		}
	}
	if b.Gateway.IsValid() {
		if err := d.setAddress(l, b.Gateway); err != nil {
			return fmt.Errorf("bridge %s: %w", b.Name, err)
		}
	}
	if err := d.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up bridge %s: %w", b.Name, err)
	}
	return nil
}

// setAddress makes gw the bridge's only IPv4 address: one left from an
// earlier configuration (another --bip) goes.
func (d *Driver) setAddress(l netlink.Link, gw netip.Prefix) error {
	addrs, err := d.h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	have := false
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IPNet.IP)
		ones, _ := a.IPNet.Mask.Size()
		if ok && ip.Unmap() == gw.Addr() && ones == gw.Bits() {
			have = true
			continue
		}
		if err := d.h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove address %s: %w", a.IPNet, err)
		}
	}
	if have {
		return nil
	}
	if err := d.h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(gw)}); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s: %w", gw, err)
	}
	return nil
}

// DeleteBridge removes the bridge; a missing one is no error.
func (d *Driver) DeleteBridge(name string) error {
	l, err := d.h.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up bridge %s: %w", name, err)
	}
	if l.Type() != "bridge" {
		return nil // not ours to remove
	}
	if err := d.h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// Ports are the names of the links attached to the bridge (none when it
// is missing).
func (d *Driver) Ports(bridge string) ([]string, error) {
	br, err := d.h.LinkByName(bridge)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up bridge %s: %w", bridge, err)
	}
	links, err := d.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var names []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			names = append(names, l.Attrs().Name)
		}
	}
	return names, nil
}

// Route is an IPv4 route of the namespace's main table.
type Route struct {
	Dst netip.Prefix
	Dev string // the output link, empty when unknown
}

// Routes lists the IPv4 routes of the main table, the default route
// excepted (every subnet overlaps it).
func (d *Driver) Routes() ([]Route, error) {
	rs, err := d.h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	names := map[int]string{}
	if links, err := d.h.LinkList(); err == nil {
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	var out []Route
	for _, r := range rs {
		if r.Dst == nil {
			continue
		}
		p, ok := prefixOf(r.Dst)
		if !ok || p.Bits() == 0 {
			continue
		}
		out = append(out, Route{Dst: p, Dev: names[r.LinkIndex]})
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) ||
		strings.Contains(err.Error(), "not found")
}

// DefaultRouteMTU is the MTU of the default route's link, 0 without one.
func (d *Driver) DefaultRouteMTU() int {
	rs, err := d.h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return 0
	}
	for _, r := range rs {
		if r.Dst != nil && r.Dst.IP != nil && !r.Dst.IP.IsUnspecified() {
			continue
		}
		if l, err := d.h.LinkByIndex(r.LinkIndex); err == nil {
			return l.Attrs().MTU
		}
	}
	return 0
}
