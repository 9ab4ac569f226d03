package nat

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
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
	must(t, netlab.In(l.a1, func() error {
		if err := os.WriteFile("/proc/sys/net/ipv4/conf/eth0/route_localnet", []byte("1"), 0o644); err != nil {
			return err
		}
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Table: unix.RT_TABLE_LOCAL,
			Dst: &net.IPNet{IP: net.IPv4(127, 0, 0, 2), Mask: net.CIDRMask(32, 32)}, Gw: net.IP(netip.MustParseAddr("10.88.1.1").AsSlice())})
	}))
	if got, err := l.ask(l.a1, "tcp", "127.0.0.2:5999"); !errors.Is(err, errBlocked) {
		t.Errorf("container to the host's 127.0.0.2:5999 through the bridge: got %q, %v; want blocked", got, err)
	}
	// The host's own 127.0.0.1 publication still works.
	if got, err := l.ask(l.h, "tcp", "127.0.0.1:8080"); err != nil || got != "10.88.1.1" {
		t.Errorf("host to 127.0.0.1:8080: got %q, %v", got, err)
	}
}
