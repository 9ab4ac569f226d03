package bridge

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestMAC(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"172.17.0.2", "02:42:ac:11:00:02"},
		{"10.0.255.1", "02:42:0a:00:ff:01"},
	} {
		if got := MAC(netip.MustParseAddr(tc.addr)).String(); got != tc.want {
			t.Errorf("MAC(%s): got %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestHostIfName(t *testing.T) {
	if got, want := HostIfName("0123456789abcdef0123"), "veth0123456789a"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// handleIn opens a netlink handle inside the namespace at path.
func handleIn(t *testing.T, path string) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestBridgeAndEndpoint(t *testing.T) {
	testutil.RequireRoot(t)
	host := testnetns.New(t)
	ctr := testnetns.New(t)
	d, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	gw := netip.MustParsePrefix("10.55.0.1/24")
	b := Bridge{Name: "br-test", Gateway: gw, MTU: 1400}
	for i := 0; i < 2; i++ { // twice: EnsureBridge is idempotent
		if err := d.EnsureBridge(b); err != nil {
			t.Fatalf("EnsureBridge #%d: %v", i, err)
		}
	}
	// Another gateway (berthd restarted with another --bip): the old
	// address goes.
	if err := d.EnsureBridge(Bridge{Name: "br-test", Gateway: netip.MustParsePrefix("10.54.0.1/24")}); err != nil {
		t.Fatal(err)
	}
	if err := d.EnsureBridge(b); err != nil {
		t.Fatal(err)
	}
	hh := handleIn(t, host)
	br, err := hh.LinkByName("br-test")
	if err != nil {
		t.Fatal(err)
	}
	if got := br.Attrs().HardwareAddr.String(); got != "02:42:0a:37:00:01" {
		t.Errorf("bridge MAC: got %s, want 02:42:0a:37:00:01 (from the gateway, fixed)", got)
	}
	if got := br.Attrs().MTU; got != 1400 {
		t.Errorf("bridge mtu: got %d, want 1400", got)
	}
	addrs, _ := hh.AddrList(br, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "10.55.0.1/24" {
		t.Errorf("bridge addresses: got %v, want [10.55.0.1/24]", addrs)
	}
	routes, err := d.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(routes, Route{Dst: netip.MustParsePrefix("10.55.0.0/24"), Dev: "br-test"}) {
		t.Errorf("routes: got %v, want the bridge's 10.55.0.0/24", routes)
	}

	ep := Endpoint{Bridge: "br-test", HostIf: HostIfName("abcdef0123456789"), NetNS: ctr, IfName: "eth0",
		Address: netip.MustParsePrefix("10.55.0.2/24"), Gateway: gw.Addr(), DefaultRoute: true}
	if err := d.AddEndpoint(ep); err != nil {
		t.Fatalf("AddEndpoint: %v", err)
	}
	ports, err := d.Ports("br-test")
	if err != nil || !slices.Equal(ports, []string{"vethabcdef01234"}) {
		t.Errorf("ports: got %v %v, want [vethabcdef01234]", ports, err)
	}
	if hl, err := hh.LinkByName("vethabcdef01234"); err != nil {
		t.Error(err)
	} else if pi, err := hh.LinkGetProtinfo(hl); err != nil || !pi.Hairpin {
		t.Errorf("host end: hairpin %v %v, want on", pi.Hairpin, err)
	}
	ch := handleIn(t, ctr)
	eth0, err := ch.LinkByName("eth0")
	if err != nil {
		t.Fatalf("eth0 in the container: %v", err)
	}
	if got := eth0.Attrs().HardwareAddr.String(); got != "02:42:0a:37:00:02" {
		t.Errorf("eth0 MAC: got %s, want 02:42:0a:37:00:02", got)
	}
	if got := eth0.Attrs().MTU; got != 1400 {
		t.Errorf("eth0 mtu: got %d, want 1400", got)
	}
	if eth0.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("eth0 is down")
	}
	var v6 []byte
	if err := testnetns.Do(ctr, func() (err error) {
		v6, err = os.ReadFile("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")
		return err
	}); err != nil || strings.TrimSpace(string(v6)) != "1" {
		t.Errorf("eth0 disable_ipv6: got %q, %v; want 1 (IPv4-only network)", v6, err)
	}
	rs, _ := ch.RouteList(eth0, netlink.FAMILY_V4)
	var def bool
	for _, r := range rs {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			def = r.Gw.Equal(net.ParseIP("10.55.0.1"))
		}
	}
	if !def {
		t.Errorf("no default route via 10.55.0.1 in the container: %v", rs)
	}
	// The same name again fails and leaves nothing new behind.
	if err := d.AddEndpoint(ep); err == nil {
		t.Errorf("second AddEndpoint with the same names: got no error")
	}
	if err := d.RemoveEndpoint(ep.HostIf); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveEndpoint(ep.HostIf); err != nil {
		t.Errorf("RemoveEndpoint of a missing link: %v", err)
	}
	if _, err := ch.LinkByName("eth0"); err == nil {
		t.Errorf("eth0 still in the container after RemoveEndpoint")
	}
	if err := d.DeleteBridge("br-test"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteBridge("br-test"); err != nil {
		t.Errorf("DeleteBridge of a missing bridge: %v", err)
	}
	if _, err := hh.LinkByName("br-test"); err == nil {
		t.Errorf("bridge still there after DeleteBridge")
	}
}

func TestAddEndpointFailureLeavesNothing(t *testing.T) {
	testutil.RequireRoot(t)
	host := testnetns.New(t)
	d, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.EnsureBridge(Bridge{Name: "br-x", Gateway: netip.MustParsePrefix("10.56.0.1/24")}); err != nil {
		t.Fatal(err)
	}
	ep := Endpoint{Bridge: "br-x", HostIf: "vethfail", NetNS: "/nonexistent", IfName: "eth0",
		Address: netip.MustParsePrefix("10.56.0.2/24")}
	if err := d.AddEndpoint(ep); err == nil {
		t.Fatal("AddEndpoint into a missing namespace: got no error")
	}
	if ports, _ := d.Ports("br-x"); len(ports) != 0 {
		t.Errorf("ports left after a failed AddEndpoint: %v", ports)
	}
}
