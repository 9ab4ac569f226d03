package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testnetplugin"
	"github.com/berth-dev/berth/internal/testutil"
)

func testPlugins(sockDir, specDir string) *Plugins {
	return New(Options{SocketDirs: []string{sockDir}, SpecDirs: []string{specDir}, Timeout: 10 * time.Second, ActivateTimeout: 5 * time.Second})
}

func TestDiscovery(t *testing.T) {
	sockDir, specDir := t.TempDir(), t.TempDir()
	p := testnetplugin.Start(t, sockDir, "sockplug", "")
	os.MkdirAll(filepath.Join(specDir, "dirplug"), 0o755)
	os.WriteFile(filepath.Join(specDir, "specplug.spec"), []byte("unix://"+p.Sock+"\n"), 0o644)
	os.WriteFile(filepath.Join(specDir, "dirplug", "dirplug.json"), []byte(`{"Name":"dirplug","Addr":"unix://`+p.Sock+`"}`), 0o644)
	os.WriteFile(filepath.Join(specDir, "badplug.spec"), []byte("ftp://x"), 0o644)
	plugins := testPlugins(sockDir, specDir)
	for _, name := range []string{"sockplug", "specplug", "dirplug"} {
		d, err := plugins.Driver(context.Background(), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.Name() != name || d.Capabilities().Scope != "local" {
			t.Errorf("%s: got %s %+v, want its name and local scope", name, d.Name(), d.Capabilities())
		}
	}
	if got := p.Calls(); len(got) != 6 || got[0] != "Plugin.Activate" || got[1] != "NetworkDriver.GetCapabilities" {
		t.Errorf("got calls %q, want Activate and GetCapabilities for each", got)
	}
	// Activated once.
	plugins.Driver(context.Background(), "sockplug")
	if got := len(p.Calls()); got != 6 {
		t.Errorf("got %d calls after a second Driver, want 6", got)
	}
	names := plugins.Names()
	slices.Sort(names)
	if want := "badplug,dirplug,sockplug,specplug"; strings.Join(names, ",") != want {
		t.Errorf("got names %v, want %s", names, want)
	}
	tests := []struct{ name, err string }{
		{"missing", `plugin "missing" not found`},
		{"../x", "invalid plugin name"},
		{"badplug", `scheme "ftp" is not unix, tcp or https`},
	}
	for _, tc := range tests {
		if _, err := plugins.Driver(context.Background(), tc.name); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
		}
	}
	if _, err := plugins.Driver(context.Background(), "missing"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("got %v, want not found", err)
	}
}

func TestNotANetworkDriver(t *testing.T) {
	dir := t.TempDir()
	p := testnetplugin.Start(t, dir, "vol", "")
	p.Implements("VolumeDriver")
	_, err := testPlugins(dir, dir).Driver(context.Background(), "vol")
	if err == nil || !strings.Contains(err.Error(), "plugin vol does not implement NetworkDriver") {
		t.Errorf("got %v, want a refusal", err)
	}
}

// TestActivationWaits: a spec names a socket that appears later, as
// when a plugin starts after the daemon.
func TestActivationWaits(t *testing.T) {
	sockDir, specDir := t.TempDir(), t.TempDir()
	sock := filepath.Join(sockDir, "late.sock")
	os.WriteFile(filepath.Join(specDir, "late.spec"), []byte("unix://"+sock), 0o644)
	go func() {
		time.Sleep(300 * time.Millisecond)
		testnetplugin.Start(t, sockDir, "late", "")
	}()
	if _, err := testPlugins(t.TempDir(), specDir).Driver(context.Background(), "late"); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	p := testnetplugin.Start(t, dir, "errs", "")
	d, err := testPlugins(dir, dir).Driver(context.Background(), "errs")
	if err != nil {
		t.Fatal(err)
	}
	p.Fail("NetworkDriver.CreateNetwork", "subnet taken")
	err = d.CreateNetwork(context.Background(), CreateNetworkRequest{NetworkID: "n"})
	var pe *Error
	if !errors.As(err, &pe) || err.Error() != "remote network driver errs: NetworkDriver.CreateNetwork: subnet taken" {
		t.Errorf("got %v, want the plugin's Err with its name", err)
	}
	p.Status("NetworkDriver.Leave", 404)
	if err := d.Leave(context.Background(), "n", "e"); !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Errorf("got %v, want not implemented for a 404", err)
	}
	p.Status("NetworkDriver.ProgramExternalConnectivity", 404)
	if err := d.ProgramExternalConnectivity(context.Background(), "n", "e", nil); err != nil {
		t.Errorf("optional method answered 404: got %v, want no error", err)
	}
	p.Status("NetworkDriver.DeleteNetwork", 500)
	if err := d.DeleteNetwork(context.Background(), "n"); err == nil || !strings.Contains(err.Error(), "Internal Server Error: no such method") {
		t.Errorf("got %v, want the status and body", err)
	}
}

func TestLinkOf(t *testing.T) {
	tests := []struct {
		name string
		j    JoinResponse
		err  string
		want string
	}{
		{"ok", JoinResponse{InterfaceName: &InterfaceName{"veth1", "eth"}, Gateway: "10.0.0.1",
			StaticRoutes: []StaticRoute{{Destination: "10.1.0.5/16", RouteType: 1}, {Destination: "10.2.0.0/16", NextHop: "10.0.0.9"}}},
			"", "veth1 eth2 gw 10.0.0.1 routes [{10.1.0.0/16 invalid IP} {10.2.0.0/16 10.0.0.9}]"},
		{"no name", JoinResponse{}, "no InterfaceName.SrcName", ""},
		{"bad src", JoinResponse{InterfaceName: &InterfaceName{"../x", "eth"}}, "invalid interface names", ""},
		{"long prefix", JoinResponse{InterfaceName: &InterfaceName{"v", "averyverylongprefix"}}, "invalid interface names", ""},
		{"no prefix", JoinResponse{InterfaceName: &InterfaceName{"v", ""}}, "invalid interface names", ""},
		{"bad gw", JoinResponse{InterfaceName: &InterfaceName{"v", "eth"}, Gateway: "x"}, `invalid Gateway "x"`, ""},
		{"bad route", JoinResponse{InterfaceName: &InterfaceName{"v", "eth"}, StaticRoutes: []StaticRoute{{Destination: "y"}}}, `invalid route destination "y"`, ""},
		{"bad hop", JoinResponse{InterfaceName: &InterfaceName{"v", "eth"}, StaticRoutes: []StaticRoute{{Destination: "10.0.0.0/8"}}}, `invalid route next hop ""`, ""},
		{"bad type", JoinResponse{InterfaceName: &InterfaceName{"v", "eth"}, StaticRoutes: []StaticRoute{{Destination: "10.0.0.0/8", RouteType: 7}}}, "invalid route type 7", ""},
	}
	for _, tc := range tests {
		l, err := LinkOf(&tc.j, 2, true)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := fmt.Sprintf("%s %s gw %s routes %v", l.SrcName, l.Name, l.Gateway, l.Routes); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestJoinPlumbLeave drives the whole protocol against the test plugin
// in namespaces of the test's: two containers on one network reach each
// other; afterwards no link is left anywhere.
func TestJoinPlumbLeave(t *testing.T) {
	testutil.RequireRoot(t)
	host := testnetns.New(t)
	dir := t.TempDir()
	p := testnetplugin.Start(t, dir, "tnet", host)
	d, err := testPlugins(dir, dir).Driver(context.Background(), "tnet")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nid := strings.Repeat("a1", 32)
	if err := d.CreateNetwork(ctx, CreateNetworkRequest{NetworkID: nid, Options: map[string]any{OptGeneric: map[string]string{"x": "y"}},
		IPv4Data: []IPAMData{{AddressSpace: "LocalDefault", Pool: "10.77.0.0/24", Gateway: "10.77.0.1/24"}}}); err != nil {
		t.Fatal(err)
	}
	var ctrs []string
	var addrs []netip.Prefix
	for i := range 2 {
		eid := fmt.Sprintf("%02d", i) + strings.Repeat("e", 62)
		ns := testnetns.New(t)
		addr := netip.MustParsePrefix(fmt.Sprintf("10.77.0.%d/24", i+2))
		mac, _ := net.ParseMAC(fmt.Sprintf("02:42:0a:4d:00:%02x", i+2))
		iface, err := d.CreateEndpoint(ctx, CreateEndpointRequest{NetworkID: nid, EndpointID: eid,
			Interface: &EndpointInterface{Address: addr.String(), MacAddress: mac.String()}})
		if err != nil || iface != nil {
			t.Fatalf("CreateEndpoint: got %v %v, want no interface of its own", iface, err)
		}
		j, err := d.Join(ctx, JoinRequest{NetworkID: nid, EndpointID: eid, SandboxKey: ns})
		if err != nil {
			t.Fatal(err)
		}
		l, err := LinkOf(j, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		l.Address, l.MAC, l.Alias = addr, mac, "berth:"+eid[:12]
		if err := Plumb(host, ns, l); err != nil {
			t.Fatal(err)
		}
		ctrs, addrs = append(ctrs, ns), append(addrs, addr)
		checkLink(t, ns, "eth0", addr, mac)
	}
	reach(t, ctrs[0], ctrs[1], addrs[1].Addr())
	// Docker's order: the link back to the host, Leave, DeleteEndpoint.
	for i, ns := range ctrs {
		eid := fmt.Sprintf("%02d", i) + strings.Repeat("e", 62)
		if err := Unplumb(host, ns, "eth0", "berth:"+eid[:12], "tc"+eid[:8]); err != nil {
			t.Fatal(err)
		}
		if err := d.Leave(ctx, nid, eid); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteEndpoint(ctx, nid, eid); err != nil {
			t.Fatal(err)
		}
		if got := linkNames(t, ns); !slices.Equal(got, []string{"lo"}) {
			t.Errorf("container %d: got links %v, want lo only", i, got)
		}
	}
	if err := d.DeleteNetwork(ctx, nid); err != nil {
		t.Fatal(err)
	}
	if got := linkNames(t, host); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("host: got links %v, want lo only", got)
	}
	// Unplumb of what is gone is no error.
	if err := Unplumb(host, "/proc/self/fd/999999", "eth0", "x", "y"); err != nil {
		t.Errorf("Unplumb of a gone namespace: %v", err)
	}
	if strings.Count(strings.Join(p.Calls(), " "), "NetworkDriver.Join") != 2 {
		t.Errorf("got calls %v", p.Calls())
	}
}

// TestPlumbRefusal: a link that cannot be configured goes back to the
// host's namespace under its own name.
func TestPlumbRefusal(t *testing.T) {
	testutil.RequireRoot(t)
	host, ctr := testnetns.New(t), testnetns.New(t)
	err := testnetns.Do(host, func() error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "src0"}, PeerName: "src0p"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The route's next hop is not on the link: the kernel refuses it.
	l := Link{SrcName: "src0", Name: "eth0", Address: netip.MustParsePrefix("10.5.0.2/24"), Routes: []Route{{Dst: netip.MustParsePrefix("10.9.0.0/16"), NextHop: netip.MustParseAddr("10.6.0.1")}}}
	if err := Plumb(host, ctr, l); err == nil || !strings.Contains(err.Error(), "route 10.9.0.0/16") {
		t.Fatalf("got %v, want the route's refusal", err)
	}
	if got := linkNames(t, host); !slices.Contains(got, "src0") {
		t.Errorf("host links %v: src0 did not come back", got)
	}
	if got := linkNames(t, ctr); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("container links %v, want lo only", got)
	}
}

func checkLink(t *testing.T, ns, name string, addr netip.Prefix, mac net.HardwareAddr) {
	t.Helper()
	err := testnetns.Do(ns, func() error {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		if l.Attrs().HardwareAddr.String() != mac.String() {
			return fmt.Errorf("got MAC %s, want %s", l.Attrs().HardwareAddr, mac)
		}
		as, _ := netlink.AddrList(l, netlink.FAMILY_V4)
		if len(as) != 1 || as[0].IPNet.String() != addr.String() {
			return fmt.Errorf("got addresses %v, want %s", as, addr)
		}
		rs, _ := netlink.RouteList(nil, netlink.FAMILY_V4)
		var got []string
		for _, r := range rs {
			got = append(got, fmt.Sprintf("%v via %v", r.Dst, r.Gw))
		}
		slices.Sort(got)
		want := []string{"0.0.0.0/0 via 10.77.0.1", "10.77.0.0/24 via <nil>", "198.51.100.0/24 via 10.77.0.1", "203.0.113.0/24 via <nil>"}
		if !slices.Equal(got, want) {
			return fmt.Errorf("got routes %q, want %q", got, want)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s in the container: %v", name, err)
	}
}

// reach dials from ns from a TCP listener the test opens in ns to.
func reach(t *testing.T, from, to string, addr netip.Addr) {
	t.Helper()
	var ln net.Listener
	if err := testnetns.Do(to, func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	err := testnetns.Do(from, func() error {
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 2)
		_, err = c.Read(b)
		return err
	})
	if err != nil {
		t.Fatalf("connect to %s: %v", ln.Addr(), err)
	}
}

// linkNames are the links of the namespace at path.
func linkNames(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	err := testnetns.Do(path, func() error {
		ls, err := netlink.LinkList()
		for _, l := range ls {
			out = append(out, l.Attrs().Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
