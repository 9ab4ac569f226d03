// Package drivertest is the conformance suite every network.Driver that
// makes links runs from its own tests: networks made and removed twice,
// a container joined that its peer reaches and left without a trace,
// Leave repeated, without a namespace, or with a path that names another
// namespace by now (which must not be touched), and a failed Join that
// leaves nothing. Each case runs in namespaces of its own.
package drivertest

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/network"
)

// The lab: the driver's namespace ("host") has Parent, a veth whose peer
// in another namespace has PeerAddr; the network is Subnet via PeerAddr.
var (
	ParentAddr = netip.MustParsePrefix("10.44.0.2/24")
	PeerAddr   = netip.MustParsePrefix("10.44.0.100/24")
	Subnet     = netip.MustParsePrefix("10.44.0.0/24")
)

// Parent is the parent interface's name in the host namespace.
const Parent = "par0"

// Setup makes the driver under test in the namespace at hostPath and the
// network (Options naming Parent, Subnet and the gateway PeerAddr set)
// its containers join. The suite closes nothing: register cleanups.
type Setup func(t *testing.T, hostPath string) (network.Driver, *network.Network)

type lab struct {
	t          *testing.T
	host, peer netns.NsHandle
	d          network.Driver
	n          *network.Network
}

func newLab(t *testing.T, setup Setup) *lab {
	t.Helper()
	testutil.RequireRoot(t)
	l := &lab{t: t, host: newNS(t), peer: newNS(t)}
	if err := netlab.Link(l.host, Parent, ParentAddr, l.peer, "peer0", PeerAddr); err != nil {
		t.Fatal(err)
	}
	l.d, l.n = setup(t, netlab.Path(l.host))
	return l
}

func newNS(t *testing.T) netns.NsHandle {
	t.Helper()
	ns, err := netlab.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

// links are the names of the links in ns, sorted.
func links(t *testing.T, ns netns.NsHandle) []string {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Attrs().Name)
	}
	slices.Sort(out)
	return out
}

func (l *lab) endpoint(id, addr string) *network.Endpoint {
	return &network.Endpoint{ID: id, IfName: "eth0", Address: netip.MustParsePrefix(addr),
		Gateway: PeerAddr.Addr(), MAC: "02:42:0a:2c:00:" + id[len(id)-2:]}
}

// Run runs the suite.
func Run(t *testing.T, setup Setup) {
	t.Run("network twice", func(t *testing.T) {
		l := newLab(t, setup)
		before := links(t, l.host)
		for _, step := range []func(*network.Network) error{l.d.CreateNetwork, l.d.CreateNetwork, l.d.DeleteNetwork, l.d.DeleteNetwork} {
			if err := step(l.n); err != nil {
				t.Fatal(err)
			}
		}
		if got := links(t, l.host); !slices.Equal(got, before) {
			t.Errorf("host links: got %q, want %q", got, before)
		}
	})
	t.Run("join reach leave", func(t *testing.T) {
		l := newLab(t, setup)
		if err := l.d.CreateNetwork(l.n); err != nil {
			t.Fatal(err)
		}
		ctr := newNS(t)
		ep := l.endpoint("ep0000000001", "10.44.0.51/24")
		if err := l.d.Join(l.n, ep, netlab.Path(ctr), true); err != nil {
			t.Fatal(err)
		}
		if err := netlab.Reach(l.peer, ctr, ep.Address.Addr(), 5*time.Second); err != nil {
			t.Errorf("peer to container: %v", err)
		}
		for _, path := range []string{netlab.Path(ctr), netlab.Path(ctr), ""} {
			if err := l.d.Leave(l.n, ep, path); err != nil {
				t.Errorf("leave with %q: %v", path, err)
			}
		}
		if got := links(t, ctr); !slices.Equal(got, []string{"lo"}) {
			t.Errorf("container links after leave: got %q, want lo alone", got)
		}
		if err := l.d.DeleteNetwork(l.n); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stale namespace path", func(t *testing.T) {
		l := newLab(t, setup)
		if err := l.d.CreateNetwork(l.n); err != nil {
			t.Fatal(err)
		}
		ctr, other := newNS(t), newNS(t)
		// An eth0 of its own (a veth pair: kernels without dummy links
		// have veths).
		if err := netlab.Link(other, "eth0", netip.Prefix{}, other, "eth9", netip.Prefix{}); err != nil {
			t.Fatal(err)
		}
		ep := l.endpoint("ep0000000002", "10.44.0.52/24")
		if err := l.d.Join(l.n, ep, netlab.Path(ctr), true); err != nil {
			t.Fatal(err)
		}
		if err := l.d.Leave(l.n, ep, netlab.Path(other)); err != nil {
			t.Errorf("leave with another namespace's path: %v", err)
		}
		if got := links(t, other); !slices.Equal(got, []string{"eth0", "eth9", "lo"}) {
			t.Errorf("the other namespace: got %q, want its eth0 untouched", got)
		}
		if err := l.d.Leave(l.n, ep, netlab.Path(ctr)); err != nil {
			t.Fatal(err)
		}
		if err := l.d.DeleteNetwork(l.n); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failed join", func(t *testing.T) {
		l := newLab(t, setup)
		if err := l.d.CreateNetwork(l.n); err != nil {
			t.Fatal(err)
		}
		before := links(t, l.host)
		ep := l.endpoint("ep0000000003", "10.44.0.53/24")
		if err := l.d.Join(l.n, ep, "/proc/self/fd/99999", true); err == nil {
			t.Fatal("join into a missing namespace: got no error")
		}
		if got := links(t, l.host); !slices.Equal(got, before) {
			t.Errorf("host links after a failed join: got %q, want %q", got, before)
		}
		if err := l.d.Leave(l.n, ep, ""); err != nil {
			t.Errorf("leave after a failed join: %v", err)
		}
		if err := l.d.DeleteNetwork(l.n); err != nil {
			t.Fatal(err)
		}
	})
}
