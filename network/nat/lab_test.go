package nat

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/vishvananda/netns"
)

// lab is the test's world, all in namespaces of its own:
//
//	X (another host) 192.0.2.2 ── ext0 192.0.2.1  H (the host)
//	                                              brA 10.88.1.1/24: a1 .2, a2 .3
//	                                              brB 10.88.2.1/24 (ICC off): b1 .2, b2 .3
//	                                              brI 10.88.3.1/24 (internal): i1 .2
//
// Every container and X answer on TCP and UDP port 80 with the address
// they saw the client come from.
type lab struct {
	t                    *testing.T
	h, x, a1, a2, b1, b2 netns.NsHandle
	i1                   netns.NsHandle
}

var (
	netA = NetRule{Bridge: "brA", Subnet: netip.MustParsePrefix("10.88.1.0/24"), ICC: true}
	netB = NetRule{Bridge: "brB", Subnet: netip.MustParsePrefix("10.88.2.0/24")}
	netI = NetRule{Bridge: "brI", Subnet: netip.MustParsePrefix("10.88.3.0/24"), Internal: true, ICC: true}
)

func newLab(t *testing.T) *lab {
	t.Helper()
	testutil.RequireRoot(t)
	l := &lab{t: t}
	l.h = l.ns()
	l.x = l.ns()
	must(t, netlab.Link(l.h, "ext0", pfx("192.0.2.1/24"), l.x, "eth0", pfx("192.0.2.2/24")))
	for _, n := range []NetRule{netA, netB, netI} {
		gw := n.Subnet.Addr().Next()
		must(t, netlab.Bridge(l.h, n.Bridge, netip.PrefixFrom(gw, n.Subnet.Bits())))
	}
	l.a1 = l.container(netA, "va1", 2)
	l.a2 = l.container(netA, "va2", 3)
	l.b1 = l.container(netB, "vb1", 2)
	l.b2 = l.container(netB, "vb2", 3)
	l.i1 = l.container(netI, "vi1", 2)
	for _, ns := range []netns.NsHandle{l.x, l.a1, l.a2, l.b1, l.b2, l.i1} {
		l.serve(ns)
	}
	return l
}

func (l *lab) ns() netns.NsHandle {
	ns, err := netlab.NewNS()
	must(l.t, err)
	l.t.Cleanup(func() { ns.Close() })
	return ns
}

func (l *lab) container(n NetRule, hostIf string, host byte) netns.NsHandle {
	a := n.Subnet.Addr().As4()
	a[3] = host
	ns, err := netlab.Container(l.h, n.Bridge, hostIf, netip.PrefixFrom(netip.AddrFrom4(a), n.Subnet.Bits()), n.Subnet.Addr().Next())
	must(l.t, err)
	l.t.Cleanup(func() { ns.Close() })
	return ns
}

// serve answers on TCP and UDP port 80 in ns with the client's address.
func (l *lab) serve(ns netns.NsHandle) {
	var ln net.Listener
	var pc net.PacketConn
	must(l.t, netlab.In(ns, func() (err error) {
		if ln, err = net.Listen("tcp4", ":80"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp4", ":80")
		return err
	}))
	l.t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, c.RemoteAddr().String())
			c.Close()
		}
	}()
	go func() {
		b := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(from.String()), from)
		}
	}()
}

// errBlocked is what a dial or an exchange that got no answer returns.
var errBlocked = errors.New("no answer")

// ask connects from ns to addr over proto and returns the client address
// the server saw (its IP only).
func (l *lab) ask(ns netns.NsHandle, proto, addr string) (string, error) {
	var got string
	err := netlab.In(ns, func() error {
		c, err := net.DialTimeout(proto+"4", addr, 700*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errBlocked
			}
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(700 * time.Millisecond))
		if proto == "udp" {
			if _, err := c.Write([]byte("?")); err != nil {
				return err
			}
		}
		b := make([]byte, 64)
		n, err := c.Read(b)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errBlocked
			}
			return err
		}
		got, _, _ = strings.Cut(string(b[:n]), ":")
		return nil
	})
	return got, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
