package nat

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/netlab"
)

// TestLoopbackGuard: route_localnet on a bridge (needed to DNAT the
// host's 127.0.0.1 into containers) must not let a container reach the
// host's loopback services. A container that routes 127.0.0.2 to its
// gateway (it can: CAP_NET_RAW or, as here, its own routes) gets no
// answer from a host listener bound to 127.0.0.2.
func TestLoopbackGuard(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	var ln net.Listener
	must(t, netlab.In(l.h, func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.2:5999"); return err }))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(c.RemoteAddr().String()))
			c.Close()
		}
	}()
	// In a1: 127.0.0.2 goes out of eth0 to the gateway.
	must(t, routeVia(l.a1, "10.88.1.1", pfx("127.0.0.2/32")))
	if got, err := l.ask(l.a1, "tcp", "127.0.0.2:5999"); !errors.Is(err, errBlocked) {
		t.Errorf("container to the host's 127.0.0.2:5999 through the bridge: got %q, %v; want blocked", got, err)
	}
	// The host's own 127.0.0.1 publication still works.
	if got, err := l.ask(l.h, "tcp", "127.0.0.1:8080"); err != nil || got != "10.88.1.1" {
		t.Errorf("host to 127.0.0.1:8080: got %q, %v", got, err)
	}
}

// TestFromOutsideGuard: another host on the host's link reaches only what
// is published, and only on the addresses it is published on: routing a
// bridge's subnet through the host does not reach a container's
// unpublished port, and sending to 127.0.0.2 at the host (DNAT comes
// before the routing decision that would call it a martian) does not
// reach a port published on 127.0.0.2 only.
func TestFromOutsideGuard(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	r := labRules()
	r.Ports = append(r.Ports, PortRule{Proto: "tcp", HostIP: ip("127.0.0.2"), HostPort: 8082, ContainerIP: ip("10.88.1.2"), ContainerPort: 80, Bridge: "brA"})
	must(t, tb.Apply(r))
	must(t, routeVia(l.x, "192.0.2.1", pfx("10.88.1.0/24"), pfx("127.0.0.2/32")))
	for _, addr := range []string{"10.88.1.2:80", "127.0.0.2:8082"} {
		if got, err := l.ask(l.x, "tcp", addr); !errors.Is(err, errBlocked) {
			t.Errorf("other host to %s through the host: got %q, %v; want blocked", addr, got, err)
		}
	}
	// What is published still is.
	if got, err := l.ask(l.x, "tcp", "192.0.2.1:8080"); err != nil || got != "192.0.2.2" {
		t.Errorf("other host to 192.0.2.1:8080: got %q, %v; want seen from 192.0.2.2", got, err)
	}
	if got, err := l.ask(l.h, "tcp", "127.0.0.2:8082"); err != nil || got != "10.88.1.1" {
		t.Errorf("host to 127.0.0.2:8082: got %q, %v; want seen from 10.88.1.1", got, err)
	}
}

// TestSpoofGuard: a container (CAP_NET_RAW, or as here an address of its
// own choosing) cannot send with the address of a container of another
// network, or with the host's 127.0.0.1 (route_localnet on the bridge
// lifts the martian check; accept_local=0 still drops it): the host, where the embedded DNS server
// tells its clients by their source address and services may trust
// loopback sources, never sees such a packet.
func TestSpoofGuard(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	var pc net.PacketConn
	must(t, netlab.In(l.h, func() (err error) { pc, err = net.ListenPacket("udp4", "10.88.1.1:5998"); return err }))
	t.Cleanup(func() { pc.Close() })
	// b2's address, 10.88.2.3, on a1's eth0 too.
	must(t, netlab.In(l.a1, func() error {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		// And 127.0.0.1 may leave by eth0 (the host's side has
		// route_localnet: a port is published on brA).
		if err := os.WriteFile("/proc/sys/net/ipv4/conf/eth0/route_localnet", []byte("1"), 0o644); err != nil {
			return err
		}
		return netlink.AddrAdd(eth0, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 88, 2, 3), Mask: net.CIDRMask(32, 32)}})
	}))
	for _, c := range []struct {
		from string
		seen bool
	}{{"10.88.1.2", true}, {"10.88.2.3", false}, {"127.0.0.1", false}} {
		must(t, netlab.In(l.a1, func() error {
			conn, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip(c.from), 0)), net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.88.1.1:5998")))
			if err != nil {
				return err
			}
			defer conn.Close()
			_, err = conn.Write([]byte(c.from))
			return err
		}))
		pc.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
		b := make([]byte, 64)
		n, from, err := pc.ReadFrom(b)
		switch {
		case c.seen && err != nil:
			t.Errorf("a1 from its own address %s: got %v, want the packet", c.from, err)
		case !c.seen && err == nil:
			t.Errorf("a1 from b2's address %s: the host got %q from %s, want nothing", c.from, b[:n], from)
		}
	}
}

// routeVia routes dsts from ns's eth0 to gw; loopback ones in the local
// table, with route_localnet on so that they may leave.
func routeVia(ns netns.NsHandle, gw string, dsts ...netip.Prefix) error {
	return netlab.In(ns, func() error {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		for _, d := range dsts {
			r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: &net.IPNet{IP: d.Addr().AsSlice(), Mask: net.CIDRMask(d.Bits(), 32)},
				Gw: net.IP(netip.MustParseAddr(gw).AsSlice())}
			if loopbackNet.Contains(d.Addr()) {
				r.Table = unix.RT_TABLE_LOCAL
				if err := os.WriteFile("/proc/sys/net/ipv4/conf/eth0/route_localnet", []byte("1"), 0o644); err != nil {
					return err
				}
			}
			if err := netlink.RouteAdd(r); err != nil {
				return fmt.Errorf("route %s via %s: %w", d, gw, err)
			}
		}
		return nil
	})
}

// TestRouterAdvertGuard: a container (CAP_NET_RAW) sending IPv6 router
// advertisements on its bridge does not become the host's IPv6 default
// router (CVE-2020-13401's attack on the host): berth's networks are
// IPv4 only, but the host's side of a bridge has IPv6 and accepts RAs.
func TestRouterAdvertGuard(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	must(t, netlab.In(l.a1, func() error {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		ll := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("fe80::bad"), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD}
		if err := netlink.AddrAdd(eth0, ll); err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		idx := uint32(eth0.Attrs().Index)
		if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte(net.ParseIP("fe80::bad").To16()), ZoneId: idx}); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255); err != nil {
			return err
		}
		// Type 134, code 0, checksum (the kernel's), hop limit 64, no
		// flags, router lifetime 1800 s, reachable and retrans 0.
		ra := []byte{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
		to := &unix.SockaddrInet6{Addr: [16]byte(net.ParseIP("ff02::1").To16()), ZoneId: idx}
		for range 3 {
			if err := unix.Sendto(fd, ra, 0, to); err != nil {
				return err
			}
		}
		return nil
	}))
	h, err := netlink.NewHandleAt(l.h)
	must(t, err)
	defer h.Close()
	for range 10 {
		rs, err := h.RouteList(nil, netlink.FAMILY_V6)
		must(t, err)
		for _, r := range rs {
			if r.Dst == nil || r.Dst.IP.IsUnspecified() {
				t.Fatalf("host's IPv6 routes: got a default route %v from a container's advertisement, want none", r)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
