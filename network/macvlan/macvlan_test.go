package macvlan

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/network"
)

// lab is a "host" namespace with parent par0 (and par1), a veth whose
// peer out0 (out1) is in an "outside" namespace at 10.50.0.100/24
// (10.51.0.100/24), and a driver working in the host namespace.
type lab struct {
	t         *testing.T
	host, out netns.NsHandle
	d         *Driver
}

func newLab(t *testing.T) *lab {
	t.Helper()
	testutil.RequireRoot(t)
	l := &lab{t: t, host: testnetns.Handle(t), out: testnetns.Handle(t)}
	for i, p := range []string{"10.50.0.100/24", "10.51.0.100/24"} {
		if err := netlab.Link(l.host, "par"+string(rune('0'+i)), netip.Prefix{}, l.out, "out"+string(rune('0'+i)), netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(netlab.Path(l.host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	l.d = d
	return l
}

func (l *lab) links(ns netns.NsHandle) []string {
	l.t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		l.t.Fatal(err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		l.t.Fatal(err)
	}
	var out []string
	for _, x := range ls {
		out = append(out, x.Attrs().Name)
	}
	return out
}

func TestCheckNetwork(t *testing.T) {
	l := newLab(t)
	sub := netip.MustParsePrefix("10.50.0.0/24")
	for _, tc := range []struct {
		opts     map[string]string
		internal bool
		want     string
	}{
		{map[string]string{}, false, "-o parent is required"},
		{map[string]string{"parent": "nosuch0"}, false, "parent interface was not found on the host: nosuch0"},
		{map[string]string{"parent": "nosuch0.10"}, false, "parent interface was not found on the host: nosuch0"},
		{map[string]string{"parent": "par0.5000"}, false, "vlan id must be between 1-4094"},
		{map[string]string{"parent": "par0", "macvlan_mode": "loud"}, false, "requested macvlan mode 'loud' is not valid"},
		{map[string]string{"parent": "par0", "colour": "red"}, false, `unknown macvlan option "colour"`},
		{map[string]string{"parent": "par0"}, true, "--internal is not supported"},
		{map[string]string{"parent": "par0", "macvlan_mode": "private"}, false, ""},
		{map[string]string{"parent": "par0.10"}, false, ""},
	} {
		err := l.d.CheckNetwork(&network.Network{Name: "n", Options: tc.opts, Internal: tc.internal, Subnet: sub})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: got %v, want no error", tc.opts, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v internal=%v: got %v, want an invalid argument with %q", tc.opts, tc.internal, err, tc.want)
		}
	}
}

func (l *lab) join(n *network.Network, id, addr string) netns.NsHandle {
	l.t.Helper()
	ctr := testnetns.Handle(l.t)
	a := netip.MustParsePrefix(addr)
	ep := &network.Endpoint{ID: id, IfName: "eth0", Address: a, Gateway: n.Gateway, MAC: "02:42:0a:00:00:" + id[len(id)-2:]}
	if err := l.d.Join(n, ep, netlab.Path(ctr), true); err != nil {
		l.t.Fatalf("join %s: %v", id, err)
	}
	l.t.Cleanup(func() {
		if err := l.d.Leave(n, ep, netlab.Path(ctr)); err != nil {
			l.t.Errorf("leave %s: %v", id, err)
		}
		if got := l.links(ctr); len(got) != 1 {
			l.t.Errorf("after leave: got links %q, want lo alone", got)
		}
	})
	return ctr
}

func TestBridgeAndPrivate(t *testing.T) {
	l := newLab(t)
	br := &network.Network{ID: "aa", Name: "mv", Options: map[string]string{"parent": "par0"},
		Subnet: netip.MustParsePrefix("10.50.0.0/24"), Gateway: netip.MustParseAddr("10.50.0.100")}
	if err := l.d.CreateNetwork(br); err != nil {
		t.Fatal(err)
	}
	c1, c2 := l.join(br, "ep01", "10.50.0.2/24"), l.join(br, "ep02", "10.50.0.3/24")
	for _, tc := range []struct {
		from, to netns.NsHandle
		addr     string
	}{{c1, c2, "10.50.0.3"}, {c2, c1, "10.50.0.2"}, {c1, l.out, "10.50.0.100"}, {l.out, c2, "10.50.0.3"}} {
		if err := netlab.Reach(tc.from, tc.to, netip.MustParseAddr(tc.addr), 5*time.Second); err != nil {
			t.Errorf("bridge mode: %s: %v", tc.addr, err)
		}
	}

	pr := &network.Network{ID: "bb", Name: "mvp", Options: map[string]string{"parent": "par1", "macvlan_mode": "private"},
		Subnet: netip.MustParsePrefix("10.51.0.0/24"), Gateway: netip.MustParseAddr("10.51.0.100")}
	if err := l.d.CreateNetwork(pr); err != nil {
		t.Fatal(err)
	}
	p1, p2 := l.join(pr, "ep11", "10.51.0.2/24"), l.join(pr, "ep12", "10.51.0.3/24")
	if err := netlab.Reach(p1, l.out, netip.MustParseAddr("10.51.0.100"), 5*time.Second); err != nil {
		t.Errorf("private mode, to the outside: %v", err)
	}
	if err := netlab.Reach(p1, p2, netip.MustParseAddr("10.51.0.3"), time.Second); err == nil {
		t.Errorf("private mode: got a connection between siblings, want none")
	}
}

func TestSubInterface(t *testing.T) {
	l := newLab(t)
	n := &network.Network{ID: "cc", Name: "mv10", Options: map[string]string{"parent": "par0.10"},
		Subnet: netip.MustParsePrefix("10.60.0.0/24"), Gateway: netip.MustParseAddr("10.60.0.1")}
	for range 2 { // again: at each start of the service
		err := l.d.CreateNetwork(n)
		if errors.Is(err, errdefs.ErrNotImplemented) {
			t.Skip(err) // the kernel has no 802.1q
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err := netlink.NewHandleAt(l.host)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	v, err := h.LinkByName("par0.10")
	if err != nil {
		t.Fatalf("sub-interface: %v", err)
	}
	if vl, ok := v.(*netlink.Vlan); !ok || vl.VlanId != 10 || v.Attrs().Alias != "berth:cc" {
		t.Errorf("sub-interface: got %T %+v, want VLAN 10 marked berth:cc", v, v.Attrs())
	}
	l.join(n, "ep21", "10.60.0.2/24")
	// Another network on the same sub-interface does not remove it.
	other := &network.Network{ID: "dd", Name: "mv10b", Options: n.Options}
	if err := l.d.DeleteNetwork(other); err != nil {
		t.Fatal(err)
	}
	if _, err := h.LinkByName("par0.10"); err != nil {
		t.Errorf("after another network's removal: %v, want par0.10 kept", err)
	}
	if err := l.d.DeleteNetwork(n); err != nil {
		t.Fatal(err)
	}
	if _, err := h.LinkByName("par0.10"); err == nil {
		t.Errorf("after removal: par0.10 still there")
	}
}
