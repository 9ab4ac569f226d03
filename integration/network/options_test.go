package network_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/netlab"
)

// TestDaemonOptions: --bip, --default-address-pool, --mtu and
// --iptables=false reach the network service.
func TestDaemonOptions(t *testing.T) {
	t.Parallel()
	d := newDaemon(t, "--bip", "10.99.0.1/24", "--default-address-pool", "base=10.200.0.0/16,size=24", "--mtu", "1400", "--iptables=false")
	d.OK("run", "-d", "--name", "web", d.Image, "sleep", "600")
	ep := d.ctrNet("web").NetworkSettings.Networks["bridge"]
	if !strings.HasPrefix(ep.IPAddress, "10.99.0.") || ep.Gateway != "10.99.0.1" || ep.IPPrefixLen != 24 {
		t.Errorf("--bip 10.99.0.1/24: container %s/%d via %s, want 10.99.0.x/24 via 10.99.0.1", ep.IPAddress, ep.IPPrefixLen, ep.Gateway)
	}
	if out := d.OK("exec", "web", "ip", "link", "show", "eth0"); !strings.Contains(out, "mtu 1400") {
		t.Errorf("--mtu 1400: eth0 is %s", out)
	}
	d.OK("network", "create", "pooled")
	if got := d.OK("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "pooled"); got != "10.200.0.0/24" {
		t.Errorf("--default-address-pool base=10.200.0.0/16,size=24: network subnet %s, want 10.200.0.0/24", got)
	}
	if tables := d.nftTables(); slices.Contains(tables, "berth") {
		t.Errorf("--iptables=false: nftables tables %v, want no berth table", tables)
	}
}

// TestBridgeNone: with --bridge=none there is no default bridge: a
// container in the default mode has its loopback only (as the other
// integration packages run berthd), and berthd writes no nftables table
// until a network needs one; user networks work.
func TestBridgeNone(t *testing.T) {
	t.Parallel()
	d := newDaemon(t, "--bridge=none")
	d.OK("run", "-d", "--name", "lonely", d.Image, "sleep", "600")
	if out := d.OK("exec", "lonely", "ip", "-o", "link"); strings.Contains(out, "eth0") {
		t.Errorf("--bridge=none: the container has %s, want lo only", out)
	}
	if ep, ok := d.ctrNet("lonely").NetworkSettings.Networks["bridge"]; !ok || ep.IPAddress != "" {
		t.Errorf("--bridge=none: inspect networks %+v, want bridge with no address", d.ctrNet("lonely").NetworkSettings.Networks)
	}
	if d.link("berth0") != nil {
		t.Errorf("--bridge=none: berth0 exists")
	}
	if tables := d.nftTables(); slices.Contains(tables, "berth") {
		t.Errorf("--bridge=none: nftables tables %v, want no berth table", tables)
	}
	d.OK("network", "create", "front")
	d.OK("run", "-d", "--name", "member", "--network", "front", d.Image, "sleep", "600")
	if ip := d.ctrNet("member").NetworkSettings.Networks["front"].IPAddress; ip == "" {
		t.Errorf("--bridge=none: a container on a user network has no address")
	}
}

// TestIPForwardFalse: with --ip-forward=false berthd leaves
// net.ipv4.ip_forward as it finds it, however many rules it writes, and
// warns that outbound NAT and published ports need it.
func TestIPForwardFalse(t *testing.T) {
	t.Parallel()
	d := newDaemon(t, "--ip-forward=false")
	const key = "/proc/sys/net/ipv4/ip_forward"
	// The namespace may have inherited the host's setting: off, then
	// rules written again by a network and a published port.
	if err := netlab.In(d.NS, func() error { return os.WriteFile(key, []byte("0\n"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	d.OK("network", "create", "fwd")
	d.OK("run", "-d", "--name", "pub", "--network", "fwd", "-p", "8080:80", d.Image, "sleep", "600")
	var got []byte
	if err := netlab.In(d.NS, func() (err error) { got, err = os.ReadFile(key); return err }); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != "0" {
		t.Errorf("--ip-forward=false: got ip_forward %s, want 0 as it was", got)
	}
	if !slices.Contains(d.nftTables(), "berth") {
		t.Errorf("--ip-forward=false: no berth table, want the rules written still")
	}
	warned := slices.ContainsFunc(strings.Split(d.Log(), "\n"), func(l string) bool {
		return strings.Contains(l, "level=WARN") && strings.Contains(l, "ip-forward")
	})
	if !warned {
		t.Errorf("--ip-forward=false: berthd log has no warning about it")
	}
}
