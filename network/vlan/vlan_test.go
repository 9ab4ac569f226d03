package vlan

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

// newLab: a "host" namespace with parent par0, whose veth peer out0 is
// in an "outside" namespace, and a driver in the host namespace.
func newLab(t *testing.T) (host, out netns.NsHandle, d *Driver) {
	t.Helper()
	testutil.RequireRoot(t)
	host, out = testnetns.Handle(t), testnetns.Handle(t)
	if err := netlab.Link(host, "par0", netip.Prefix{}, out, "out0", netip.Prefix{}); err != nil {
		t.Fatal(err)
	}
	d, err := New(netlab.Path(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return host, out, d
}

func TestCheckNetwork(t *testing.T) {
	_, _, d := newLab(t)
	sub := netip.MustParsePrefix("10.66.0.0/24")
	for _, tc := range []struct {
		opts     map[string]string
		internal bool
		want     string
	}{
		{map[string]string{"vlan": "10"}, false, "-o parent is required"},
		{map[string]string{"parent": "par0"}, false, "-o vlan is required"},
		{map[string]string{"parent": "par0", "vlan": "0"}, false, "vlan id must be between 1-4094"},
		{map[string]string{"parent": "par0", "vlan": "x"}, false, "vlan id must be between 1-4094"},
		{map[string]string{"parent": "nosuch0", "vlan": "10"}, false, "parent interface was not found on the host: nosuch0"},
		{map[string]string{"parent": "par0", "vlan": "10", "mode": "x"}, false, `unknown vlan option "mode"`},
		{map[string]string{"parent": "par0", "vlan": "10"}, true, "--internal is not supported"},
		{map[string]string{"parent": "par0", "vlan": "10"}, false, ""},
	} {
		err := d.CheckNetwork(&network.Network{Name: "n", Options: tc.opts, Internal: tc.internal, Subnet: sub})
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

// TestJoin: the container's sub-interface reaches the outside's, a second
// container is refused, and Leave deletes it. Skipped without 802.1q.
func TestJoin(t *testing.T) {
	_, out, d := newLab(t)
	h, err := netlink.NewHandleAt(out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	o, _ := h.LinkByName("out0")
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.ParentIndex = "out0.10", o.Attrs().Index
	if err := h.LinkAdd(&netlink.Vlan{LinkAttrs: attrs, VlanId: 10}); err != nil {
		t.Skipf("kernel without 802.1q (CONFIG_VLAN_8021Q): %v", err)
	}
	v, _ := h.LinkByName("out0.10")
	a, _ := netlink.ParseAddr("10.66.0.100/24")
	h.AddrAdd(v, a)
	h.LinkSetUp(v)

	n := &network.Network{ID: "nn", Name: "v10", Options: map[string]string{"parent": "par0", "vlan": "10"},
		Subnet: netip.MustParsePrefix("10.66.0.0/24"), Gateway: netip.MustParseAddr("10.66.0.100")}
	if err := d.CreateNetwork(n); err != nil {
		t.Fatal(err)
	}
	ctr := testnetns.Handle(t)
	ep := &network.Endpoint{ID: "ep1", IfName: "eth0", Address: netip.MustParsePrefix("10.66.0.2/24"), Gateway: n.Gateway}
	if err := d.Join(n, ep, netlab.Path(ctr), true); err != nil {
		t.Fatal(err)
	}
	if err := netlab.Reach(out, ctr, netip.MustParseAddr("10.66.0.2"), 5*time.Second); err != nil {
		t.Errorf("outside to container over VLAN 10: %v", err)
	}
	other := testnetns.Handle(t)
	if err := d.Join(n, &network.Endpoint{ID: "ep2", IfName: "eth0"}, netlab.Path(other), true); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("second container: got %v, want a conflict", err)
	}
	if err := d.Leave(n, ep, netlab.Path(ctr)); err != nil {
		t.Fatal(err)
	}
	ch, _ := netlink.NewHandleAt(ctr)
	defer ch.Close()
	if _, err := ch.LinkByName("eth0"); err == nil {
		t.Errorf("eth0 still in the container after leave")
	}
}
