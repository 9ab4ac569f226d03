package network_test

import (
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
)

// wire makes a veth pair: parent in berthd's namespace (no address
// unless given) and its peer, with peerAddr, in a "peer" namespace of its
// own, which the test returns. Both go when the test ends (before the
// daemon's own checks), and the test fails if the parent is not back in
// berthd's namespace by then.
func wire(t *testing.T, d *daemon, parent string, parentAddr, peerAddr netip.Prefix) netns.NsHandle {
	t.Helper()
	peer, err := netlab.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	if err := netlab.Link(d.NS, parent, parentAddr, peer, "peer0", peerAddr); err != nil {
		peer.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l := d.link(parent); l != nil {
			h, err := netlink.NewHandleAt(d.NS)
			if err == nil {
				h.LinkDel(l)
				h.Close()
			}
		} else {
			t.Errorf("parent %s is not in berthd's namespace at the end", parent)
		}
		peer.Close()
	})
	return peer
}

// noLinksOf fails the test if berthd's namespace has links of the types.
func noLinksOf(t *testing.T, d *daemon, types ...string) {
	t.Helper()
	for _, l := range d.links() {
		for _, ty := range types {
			if l.Type() == ty {
				t.Errorf("left behind: %s %s", ty, l.Attrs().Name)
			}
		}
	}
}

// TestMacvlan: containers on a macvlan network (bridge mode) reach each
// other and a host on the parent's wire, at their own addresses (no
// NAT); in private mode they reach the wire but not each other; the
// options are checked at create; published ports are refused.
func TestMacvlan(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	peer := wire(t, d, "mvp0", netip.Prefix{}, netip.MustParsePrefix("10.88.0.100/24"))
	peer1 := wire(t, d, "mvp1", netip.Prefix{}, netip.MustParsePrefix("10.89.0.100/24"))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--subnet", "10.90.0.0/24"}, "-o parent is required"},
		{[]string{"-o", "parent=nosuch0", "--subnet", "10.90.0.0/24"}, "parent interface was not found on the host: nosuch0"},
		{[]string{"-o", "parent=mvp0", "-o", "macvlan_mode=loud", "--subnet", "10.90.0.0/24"}, "requested macvlan mode 'loud' is not valid"},
		{[]string{"-o", "parent=mvp0", "--internal", "--subnet", "10.90.0.0/24"}, "--internal is not supported"},
	} {
		args := append([]string{"network", "create", "-d", "macvlan"}, tc.args...)
		if out := d.Fail(append(args, "bad")...); !strings.Contains(out, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.args, out, tc.want)
		}
	}

	d.OK("network", "create", "-d", "macvlan", "-o", "parent=mvp0", "--subnet", "10.88.0.0/24", "--gateway", "10.88.0.100", "mv")
	if out := d.Fail("run", "--rm", "--network", "mv", "-p", "8080:80", d.Image, "true"); !strings.Contains(out, "driver does not support port mappings") {
		t.Errorf("run -p on macvlan: got %q, want a refusal of publishing", out)
	}
	d.OK("run", "-d", "--name", "mva", "--network", "mv", "--ip", "10.88.0.10", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "mvb", "--network", "mv", d.Image, "probe", "serve", "7000")
	bIP := d.ctrNet("mvb").NetworkSettings.Networks["mv"].IPAddress
	if bIP != "10.88.0.1" {
		t.Errorf("b's address: got %q, want 10.88.0.1 (the lowest free, the gateway skipped)", bIP)
	}
	if out := d.OK("exec", "mva", "ip", "route"); !strings.Contains(out, "default via 10.88.0.100") {
		t.Errorf("a's routes:\n%s\nwant the default via the network's gateway", out)
	}
	if out := d.OK("exec", "mva", "probe", "dial", "tcp", bIP+":7000"); !strings.Contains(out, "FROM=10.88.0.10:") {
		t.Errorf("a to b: got %q, want b to see 10.88.0.10", out)
	}
	if got, err := dialFrom(peer, "tcp", "10.88.0.10:7000", 5*time.Second); err != nil || !strings.Contains(got, "FROM=10.88.0.100:") {
		t.Errorf("peer to a: got %q, %v; want a to see the peer's own address", got, err)
	}
	ln := listenIn(t, peer, "10.88.0.100:0")
	if out := d.OK("exec", "mvb", "probe", "dial", "tcp", "10.88.0.100:"+strconv.Itoa(ln.Port())); !strings.Contains(out, "FROM="+bIP+":") {
		t.Errorf("b to the peer: got %q, want the peer to see %s (no NAT)", out, bIP)
	}

	// Disconnect and connect a running container; berthd killed and
	// started again still knows where its link is.
	d.OK("network", "disconnect", "mv", "mvb")
	if r := d.Docker("exec", "mvb", "ip", "link", "show", "eth0"); r.Code == 0 {
		t.Errorf("mvb's eth0 after disconnect:\n%s\nwant none", r.Stdout)
	}
	d.OK("network", "connect", "--ip", "10.88.0.20", "mv", "mvb")
	if got, err := dialFrom(peer, "tcp", "10.88.0.20:7000", 5*time.Second); err != nil || got == "" {
		t.Errorf("peer to mvb after connect: got %q, %v", got, err)
	}
	d.Kill()
	d.Start()
	d.OK("network", "disconnect", "mv", "mvb")
	if r := d.Docker("exec", "mvb", "ip", "link", "show", "eth0"); r.Code == 0 {
		t.Errorf("mvb's eth0 after berthd's restart and disconnect:\n%s\nwant none", r.Stdout)
	}

	d.OK("network", "create", "-d", "macvlan", "-o", "parent=mvp1", "-o", "macvlan_mode=private", "--subnet", "10.89.0.0/24", "--gateway", "10.89.0.100", "mvp")
	d.OK("run", "-d", "--name", "p1", "--network", "mvp", "--ip", "10.89.0.11", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "p2", "--network", "mvp", "--ip", "10.89.0.12", d.Image, "probe", "serve", "7000")
	if got, err := dialFrom(peer1, "tcp", "10.89.0.12:7000", 5*time.Second); err != nil || got == "" {
		t.Errorf("peer to p2 (private mode): got %q, %v; want an answer", got, err)
	}
	if r := d.Docker("exec", "p1", "probe", "dial", "tcp", "10.89.0.12:7000"); r.Code == 0 {
		t.Errorf("p1 to p2 in private mode: got %q, want no connection", r.Stdout)
	}

	d.OK("rm", "-f", "mva", "mvb", "p1", "p2")
	d.OK("network", "rm", "mv", "mvp")
	noLinksOf(t, d, "macvlan")
}

// TestVlan: two containers on vlan networks with the same VLAN ID over
// two parents reach a peer whose namespace has the matching
// sub-interfaces (bridged together); a second container on a vlan
// network is refused while the first runs. Skipped on a kernel without
// 802.1q.
func TestVlan(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	peer := wire(t, d, "vp0", netip.Prefix{}, netip.Prefix{})
	if err := peerVLANs(peer, "10.66.0.100/24"); err != nil {
		if strings.Contains(err.Error(), "operation not supported") {
			t.Skipf("kernel without 802.1q (CONFIG_VLAN_8021Q): %v", err)
		}
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "vlan=10"}, "-o parent is required"},
		{[]string{"-o", "parent=vp0"}, "-o vlan is required"},
		{[]string{"-o", "parent=vp0", "-o", "vlan=4095"}, "vlan id must be between 1-4094"},
		{[]string{"-o", "parent=vp0", "-o", "vlan=10", "--internal"}, "--internal is not supported"},
	} {
		args := append([]string{"network", "create", "-d", "vlan", "--subnet", "10.66.0.0/24"}, tc.args...)
		if out := d.Fail(append(args, "bad")...); !strings.Contains(out, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.args, out, tc.want)
		}
	}
	d.OK("network", "create", "-d", "vlan", "-o", "parent=vp0", "-o", "vlan=10", "--subnet", "10.66.0.0/24", "--gateway", "10.66.0.100", "v10")
	d.OK("run", "-d", "--name", "v1", "--network", "v10", d.Image, "probe", "serve", "7000")
	ip := d.ctrNet("v1").NetworkSettings.Networks["v10"].IPAddress
	if got, err := dialFrom(peer, "tcp", ip+":7000", 5*time.Second); err != nil || got == "" {
		t.Errorf("peer to v1 over VLAN 10: got %q, %v", got, err)
	}
	if out := d.Fail("run", "--rm", "--network", "v10", d.Image, "true"); !strings.Contains(out, "one container at a time") {
		t.Errorf("second container on v10: got %q, want a refusal", out)
	}
	d.OK("rm", "-f", "v1")
	d.OK("network", "rm", "v10")
	noLinksOf(t, d, "vlan")
}

// peerVLANs gives peer0 in the peer namespace the sub-interface for VLAN
// 10 with addr.
func peerVLANs(peer netns.NsHandle, addr string) error {
	h, err := netlink.NewHandleAt(peer)
	if err != nil {
		return err
	}
	defer h.Close()
	p, err := h.LinkByName("peer0")
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.ParentIndex = "peer0.10", p.Attrs().Index
	v := &netlink.Vlan{LinkAttrs: attrs, VlanId: 10}
	if err := h.LinkAdd(v); err != nil {
		return err
	}
	a, _ := netlink.ParseAddr(addr)
	if err := h.AddrAdd(v, a); err != nil {
		return err
	}
	return h.LinkSetUp(v)
}

// TestPhys: a host interface (a veth end with an address) is moved into
// a container with that address, serves its peer there, and is back in
// berthd's namespace with its address when the container stops, when it
// is removed with rm -f, and when it died while berthd was killed
// (berthd's restore hands it back).
func TestPhys(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	const nicAddr = "10.99.0.2/24"
	peer := wire(t, d, "phy0", netip.MustParsePrefix(nicAddr), netip.MustParsePrefix("10.99.0.1/24"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-o parent is required"},
		{[]string{"-o", "parent=nosuch0"}, "parent interface was not found on the host: nosuch0"},
		{[]string{"-o", "parent=phy0", "--internal"}, "--internal is not supported"},
	} {
		args := append([]string{"network", "create", "-d", "phys"}, tc.args...)
		if out := d.Fail(append(args, "bad")...); !strings.Contains(out, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.args, out, tc.want)
		}
	}
	d.OK("network", "create", "-d", "phys", "-o", "parent=phy0", "nic")
	peerLn := listenIn(t, peer, "10.99.0.1:0")

	back := func(when string) {
		t.Helper()
		waitFor(t, "phy0 back "+when, func() bool { return d.link("phy0") != nil })
		l := d.link("phy0")
		if as := addrsOf(t, d, l); len(as) != 1 || as[0] != nicAddr {
			t.Errorf("phy0 back %s: got addresses %v, want %s", when, as, nicAddr)
		}
		if got, err := dialFrom(d.NS, "tcp", "10.99.0.1:"+strconv.Itoa(peerLn.Port()), 5*time.Second); err != nil || !strings.Contains(got, "FROM=10.99.0.2:") {
			t.Errorf("berthd's namespace to the peer over phy0 %s: got %q, %v", when, got, err)
		}
	}
	moved := func(name string) {
		t.Helper()
		if d.link("phy0") != nil {
			t.Fatalf("%s: phy0 still in berthd's namespace", name)
		}
		if out := d.OK("exec", name, "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, nicAddr) {
			t.Errorf("%s's eth0:\n%s\nwant %s", name, out, nicAddr)
		}
		if got, err := dialFrom(peer, "tcp", "10.99.0.2:7000", 5*time.Second); err != nil || !strings.Contains(got, "FROM=10.99.0.1:") {
			t.Errorf("peer to %s: got %q, %v", name, got, err)
		}
	}

	d.OK("run", "-d", "--name", "nicp", "--network", "nic", d.Image, "probe", "serve", "7000")
	moved("nicp")
	mac := d.ctrNet("nicp").NetworkSettings.Networks["nic"].MacAddress
	if out := d.OK("exec", "nicp", "cat", "/sys/class/net/eth0/address"); mac == "" || out != mac {
		t.Errorf("inspect's MAC %q, want the interface's own %q", mac, out)
	}
	if out := d.Fail("run", "--rm", "--network", "nic", d.Image, "true"); !strings.Contains(out, "phy0") {
		t.Errorf("second container on nic: got %q, want a refusal naming phy0", out)
	}
	d.OK("stop", "-t", "1", "nicp")
	back("after stop")
	d.OK("start", "nicp")
	moved("nicp")
	d.OK("rm", "-f", "nicp")
	back("after rm -f")

	// Connected to a running container on another network, as eth1;
	// disconnected, it is back.
	d.OK("run", "-d", "--name", "nicc", d.Image, "sleep", "600")
	d.OK("network", "connect", "nic", "nicc")
	if d.link("phy0") != nil {
		t.Errorf("phy0 still on the host after connect")
	}
	if out := d.OK("exec", "nicc", "ip", "-4", "addr"); !strings.Contains(out, nicAddr) {
		t.Errorf("nicc after connect:\n%s\nwant %s", out, nicAddr)
	}
	d.OK("network", "disconnect", "nic", "nicc")
	back("after disconnect")
	d.OK("rm", "-f", "nicc")

	// berthd killed, the container killed while it is down, berthd
	// started again: restore hands the interface back.
	d.OK("run", "-d", "--name", "nicq", "--network", "nic", d.Image, "probe", "serve", "7000")
	moved("nicq")
	pid, err := strconv.Atoi(d.OK("inspect", "-f", "{{.State.Pid}}", "nicq"))
	if err != nil || pid <= 0 {
		t.Fatalf("pid of q: %v", err)
	}
	d.Kill()
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "q to end", func() bool { return syscall.Kill(pid, 0) != nil })
	d.Start()
	back("after berthd's restart")
	// And a container that outlived berthd's kill keeps it until rm -f.
	d.OK("rm", "-f", "nicq")
	d.OK("run", "-d", "--name", "nicr", "--network", "nic", d.Image, "probe", "serve", "7000")
	d.Kill()
	d.Start()
	moved("nicr")
	d.OK("rm", "-f", "nicr")
	back("after restart and rm -f")
	d.OK("network", "rm", "nic")
}

func addrsOf(t *testing.T, d *daemon, l netlink.Link) []string {
	t.Helper()
	h, err := netlink.NewHandleAt(d.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	as, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.IPNet.String())
	}
	return out
}
