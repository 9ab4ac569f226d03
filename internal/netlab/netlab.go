// Package netlab builds small networks of namespaces for tests and
// benchmarks: namespaces with loopback up, bridges, "containers" (a
// namespace joined to a bridge by a veth pair, with an address and a
// default route) and point-to-point links between namespaces. Everything
// is made through netlink; nothing touches the caller's own namespace
// unless it is given as one of the ends.
package netlab

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NewNS makes a network namespace with loopback up. Close the handle to
// let it go once nothing else holds it.
func NewNS() (netns.NsHandle, error) {
	type res struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// The thread moves into the new namespace and is never
		// unlocked: it ends with this goroutine.
		runtime.LockOSThread()
		ns, err := netns.New()
		if err == nil {
			err = linkUp(ns, "lo")
			if err != nil {
				ns.Close()
			}
		}
		ch <- res{ns, err}
	}()
	r := <-ch
	if r.err != nil {
		return netns.None(), fmt.Errorf("new network namespace: %w", r.err)
	}
	return r.ns, nil
}

// In runs f on a thread in ns. Sockets f opens stay in ns whatever
// thread uses them later.
func In(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return // the thread dies locked
		}
		errc <- f()
		// Never unlocked: the thread is in ns and ends with the goroutine.
	}()
	return <-errc
}

func linkUp(ns netns.NsHandle, name string) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return h.LinkSetUp(l)
}

// Bridge makes bridge name in ns with address addr (the gateway, with the
// subnet's length) and brings it up.
func Bridge(ns netns.NsHandle, name string, addr netip.Prefix) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s: %w", name, err)
	}
	if err := h.AddrAdd(br, &netlink.Addr{IPNet: ipNet(addr)}); err != nil {
		return fmt.Errorf("address %s on %s: %w", addr, name, err)
	}
	return h.LinkSetUp(br)
}

// Container makes a namespace joined to bridge in hostNS by a veth pair
// (hostIf on the bridge in hairpin mode, eth0 inside) with address addr
// and a default route through gw.
func Container(hostNS netns.NsHandle, bridge, hostIf string, addr netip.Prefix, gw netip.Addr) (netns.NsHandle, error) {
	ns, err := NewNS()
	if err != nil {
		return ns, err
	}
	if err := Link(hostNS, hostIf, netip.Prefix{}, ns, "eth0", addr); err != nil {
		ns.Close()
		return netns.None(), err
	}
	err = func() error {
		h, err := netlink.NewHandleAt(hostNS)
		if err != nil {
			return err
		}
		defer h.Close()
		br, err := h.LinkByName(bridge)
		if err != nil {
			return fmt.Errorf("bridge %s: %w", bridge, err)
		}
		l, err := h.LinkByName(hostIf)
		if err != nil {
			return err
		}
		if err := h.LinkSetMaster(l, br); err != nil {
			return fmt.Errorf("%s on bridge %s: %w", hostIf, bridge, err)
		}
		// Hairpin: with br_netfilter, a container's connection to its
		// own published port is DNATed while bridged and must go back
		// out of the port it came in by (as Docker sets it).
		if err := h.LinkSetHairpin(l, true); err != nil {
			return fmt.Errorf("hairpin on %s: %w", hostIf, err)
		}
		return DefaultRoute(ns, gw)
	}()
	if err != nil {
		ns.Close()
		return netns.None(), err
	}
	return ns, nil
}

// Link makes a veth pair: aName in a (address aAddr unless zero) and
// bName in b (bAddr unless zero), both up.
func Link(a netns.NsHandle, aName string, aAddr netip.Prefix, b netns.NsHandle, bName string, bAddr netip.Prefix) error {
	ha, err := netlink.NewHandleAt(a)
	if err != nil {
		return err
	}
	defer ha.Close()
	hb, err := netlink.NewHandleAt(b)
	if err != nil {
		return err
	}
	defer hb.Close()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: aName}, PeerName: bName, PeerNamespace: netlink.NsFd(int(b))}
	if err := ha.LinkAdd(v); err != nil {
		return fmt.Errorf("add veth %s/%s: %w", aName, bName, err)
	}
	for _, e := range []struct {
		h    *netlink.Handle
		name string
		addr netip.Prefix
	}{{ha, aName, aAddr}, {hb, bName, bAddr}} {
		l, err := e.h.LinkByName(e.name)
		if err != nil {
			return fmt.Errorf("link %s: %w", e.name, err)
		}
		if e.addr.IsValid() {
			if err := e.h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(e.addr)}); err != nil {
				return fmt.Errorf("address %s on %s: %w", e.addr, e.name, err)
			}
		}
		if err := e.h.LinkSetUp(l); err != nil {
			return fmt.Errorf("up %s: %w", e.name, err)
		}
	}
	return nil
}

// DefaultRoute adds a default route through gw in ns.
func DefaultRoute(ns netns.NsHandle, gw netip.Addr) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.RouteAdd(&netlink.Route{Gw: net.IP(gw.AsSlice())}); err != nil {
		return fmt.Errorf("default route via %s: %w", gw, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
