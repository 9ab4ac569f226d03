package phys

import (
	"errors"
	"net/netip"
	"os"
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

// lab: a "host" namespace with nic0 (10.70.0.2/24), a veth whose peer
// peer0 (10.70.0.1/24) is in an "outside" namespace, and a driver in the
// host namespace.
type lab struct {
	t         *testing.T
	host, out netns.NsHandle
	pins      string
	d         *Driver
}

func newLab(t *testing.T) *lab {
	t.Helper()
	testutil.RequireRoot(t)
	l := &lab{t: t, host: testnetns.Handle(t), out: testnetns.Handle(t), pins: t.TempDir()}
	if err := netlab.Link(l.host, "nic0", netip.MustParsePrefix("10.70.0.2/24"), l.out, "peer0", netip.MustParsePrefix("10.70.0.1/24")); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{NetNS: netlab.Path(l.host), PinDir: l.pins})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	l.d = d
	return l
}

// nic is nic0 in ns with its IPv4 addresses; nil when missing.
func nic(t *testing.T, ns netns.NsHandle, name string) (netlink.Link, []string) {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, nil
	}
	as, _ := h.AddrList(l, netlink.FAMILY_V4)
	var out []string
	for _, a := range as {
		out = append(out, a.IPNet.String())
	}
	return l, out
}

func TestCheckNetwork(t *testing.T) {
	l := newLab(t)
	// vport0: the host end of a container's veth on bridge br9.
	if err := netlab.Bridge(l.host, "br9", netip.MustParsePrefix("10.71.0.1/24")); err != nil {
		t.Fatal(err)
	}
	ctr, err := netlab.Container(l.host, "br9", "vport0", netip.MustParsePrefix("10.71.0.2/24"), netip.MustParseAddr("10.71.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctr.Close() })
	// up0: the host's uplink, which holds its default route.
	peer := testnetns.Handle(t)
	if err := netlab.Link(l.host, "up0", netip.MustParsePrefix("10.72.0.1/24"), peer, "eth0", netip.MustParsePrefix("10.72.0.2/24")); err != nil {
		t.Fatal(err)
	}
	if err := netlab.DefaultRoute(l.host, netip.MustParseAddr("10.72.0.2")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts     map[string]string
		internal bool
		want     string
	}{
		{map[string]string{}, false, "-o parent is required"},
		{map[string]string{"parent": "nosuch0"}, false, "parent interface was not found on the host: nosuch0"},
		{map[string]string{"parent": "lo"}, false, "cannot be handed to a container"},
		{map[string]string{"parent": "br9"}, false, "cannot be handed to a container"},
		{map[string]string{"parent": "vport0"}, false, "is a port of another link"},
		{map[string]string{"parent": "up0"}, false, "carries the host's default route"},
		{map[string]string{"parent": "nic0", "vlan": "3"}, false, `unknown phys option "vlan"`},
		{map[string]string{"parent": "nic0"}, true, "--internal is not supported"},
		{map[string]string{"parent": "nic0"}, false, ""},
	} {
		err := l.d.CheckNetwork(&network.Network{Name: "n", Options: tc.opts, Internal: tc.internal})
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

// TestMoveAndBack: nic0 goes into a container with its address (no
// subnet) or the network's, serves there, and comes back to the host
// with its own address after the container's processes are gone.
func TestMoveAndBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addr   string // the endpoint's from IPAM; "": none
		want   string
		netns  bool // Leave is told the namespace's path
		exited bool // the container's namespace has no process left
	}{
		{"own address", "", "10.70.0.2/24", true, false},
		{"subnet address, container gone, berthd restarted", "10.70.0.9/24", "10.70.0.9/24", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			n := &network.Network{ID: "nn", Name: "nic", Options: map[string]string{"parent": "nic0"}}
			ctr, err := netlab.NewNS() // closed by hand below: the pin alone must keep it
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ctr.Close() }) // on failure; a closed handle is -1
			path := netlab.Path(ctr)
			ep := &network.Endpoint{ID: "ep0123456789abcdef", IfName: "eth0"}
			if tc.addr != "" {
				ep.Address = netip.MustParsePrefix(tc.addr)
			}
			hl, _ := nic(t, l.host, "nic0")
			hostMAC := hl.Attrs().HardwareAddr.String()
			if err := l.d.Join(n, ep, path, false); err != nil {
				t.Fatal(err)
			}
			if ep.Address.String() != tc.want || ep.HostIf != "nic0" || ep.MAC != hostMAC {
				t.Errorf("endpoint: got %s on %s (MAC %s), want %s on nic0 (MAC %s)", ep.Address, ep.HostIf, ep.MAC, tc.want, hostMAC)
			}
			if l2, _ := nic(t, l.host, "nic0"); l2 != nil {
				t.Errorf("nic0 still on the host")
			}
			if _, as := nic(t, ctr, "eth0"); len(as) != 1 || as[0] != tc.want {
				t.Errorf("in the container: got eth0 %v, want %s", as, tc.want)
			}
			if err := netlab.Reach(l.out, ctr, netip.MustParsePrefix(tc.want).Addr(), 5*time.Second); err != nil {
				t.Errorf("outside to container: %v", err)
			}
			if err := l.d.Join(n, &network.Endpoint{ID: "other", IfName: "eth0"}, path, false); !errors.Is(err, errdefs.ErrConflict) {
				t.Errorf("second join: got %v, want a conflict", err)
			}
			leavePath := path
			if tc.exited {
				ctr.Close() // the pin alone keeps the namespace
			}
			if !tc.netns {
				leavePath = ""
			}
			if err := l.d.Leave(n, ep, leavePath); err != nil {
				t.Fatal(err)
			}
			if !tc.exited {
				ctr.Close()
			}
			back, as := nic(t, l.host, "nic0")
			if back == nil || len(as) != 1 || as[0] != "10.70.0.2/24" || back.Attrs().Alias != "" || back.Attrs().OperState == netlink.OperDown {
				t.Fatalf("back on the host: got %v %v, want nic0 up with 10.70.0.2/24 and no alias", back, as)
			}
			if err := netlab.Reach(l.out, l.host, netip.MustParseAddr("10.70.0.2"), 5*time.Second); err != nil {
				t.Errorf("outside to host: %v", err)
			}
			if ents, _ := os.ReadDir(l.pins); len(ents) != 0 {
				t.Errorf("pins left: %v", ents)
			}
			if err := l.d.Leave(n, ep, ""); err != nil { // again: nothing to do
				t.Errorf("second leave: %v", err)
			}
		})
	}
}
