package network_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDefaultBridge: a container on the default bridge gets an address
// of 172.17.0.0/16, reaches the gateway (the test's listener on berthd's
// side), and reaches the external host with its address masqueraded to
// berthd's external one; its /etc/hosts names it and inspect shows the
// endpoint.
func TestDefaultBridge(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	gw := listenIn(t, d.NS, "0.0.0.0:0")
	ext := listenIn(t, d.Outside, extOutside.Addr().String()+":0")

	id := d.OK("run", "-d", "--name", "web", "--add-host", "host.docker.internal:host-gateway", d.Image, "sleep", "600")
	n := d.ctrNet("web")
	ep, ok := n.NetworkSettings.Networks["bridge"]
	if !ok {
		t.Fatalf("inspect: networks %v, want bridge", n.NetworkSettings.Networks)
	}
	ip, err := netip.ParseAddr(ep.IPAddress)
	if err != nil || !netip.MustParsePrefix("172.17.0.0/16").Contains(ip) {
		t.Fatalf("inspect: IPAddress %q, want an address in 172.17.0.0/16", ep.IPAddress)
	}
	if ep.Gateway != "172.17.0.1" || ep.IPPrefixLen != 16 || ep.MacAddress == "" || ep.EndpointID == "" || ep.NetworkID == "" {
		t.Errorf("inspect: endpoint %+v, want gateway 172.17.0.1, prefix 16, a MAC, endpoint and network IDs", ep)
	}
	if n.NetworkSettings.IPAddress != ep.IPAddress || n.NetworkSettings.Gateway != "172.17.0.1" {
		t.Errorf("inspect: top-level IPAddress %q Gateway %q, want %s 172.17.0.1 (the default bridge's, as API < 1.52 shows)",
			n.NetworkSettings.IPAddress, n.NetworkSettings.Gateway, ep.IPAddress)
	}
	if !strings.HasPrefix(n.NetworkSettings.SandboxKey, "/proc/") {
		t.Errorf("inspect: SandboxKey %q, want the container's /proc/PID/ns/net", n.NetworkSettings.SandboxKey)
	}
	if d.link("berth0") == nil {
		t.Errorf("no bridge berth0 in berthd's namespace")
	}

	// eth0 inside, with the address; the hosts file names it.
	if out := d.OK("exec", "web", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, ep.IPAddress+"/16") {
		t.Errorf("eth0 in the container: %s, want %s/16", out, ep.IPAddress)
	}
	hosts := d.OK("exec", "web", "cat", "/etc/hosts")
	for _, want := range []string{ep.IPAddress + "\t" + id[:12], "172.17.0.1\thost.docker.internal"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts lacks %q:\n%s", want, hosts)
		}
	}

	// The gateway, from the container: the connection comes from its own
	// address.
	out := d.OK("exec", "web", "probe", "dial", "tcp", fmt.Sprintf("172.17.0.1:%d", gw.Port()))
	if !strings.Contains(out, "FROM="+ep.IPAddress+":") {
		t.Errorf("container to gateway: %q, want FROM=%s", out, ep.IPAddress)
	}
	// The external host: masqueraded to berthd's external address.
	out = d.OK("exec", "web", "probe", "dial", "tcp", fmt.Sprintf("%s:%d", extOutside.Addr(), ext.Port()))
	if !strings.Contains(out, "FROM="+extHost.Addr().String()+":") {
		t.Errorf("container to external host: %q, want FROM=%s (masqueraded)", out, extHost.Addr())
	}
	// The host reaches the container's address directly.
	d.OK("exec", "-d", "web", "probe", "serve", "7000")
	got, err := dialFrom(d.NS, "tcp", ep.IPAddress+":7000", 5*time.Second)
	if err != nil || !strings.HasPrefix(got, id[:12]+" FROM=172.17.0.1:") {
		t.Errorf("host to container: %q, %v; want an answer from %s seeing 172.17.0.1", got, err, id[:12])
	}

	// Stopped: no veth, no lease; inspect keeps the network, without an
	// address.
	d.OK("stop", "-t", "1", "web")
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after stop: %v", left)
	}
	if ep := d.ctrNet("web").NetworkSettings.Networks["bridge"]; ep.IPAddress != "" || ep.NetworkID == "" {
		t.Errorf("inspect of the stopped container: %+v, want no address and the network's ID", ep)
	}
	// Started again: an address again.
	d.OK("start", "web")
	if ep := d.ctrNet("web").NetworkSettings.Networks["bridge"]; ep.IPAddress == "" {
		t.Errorf("inspect after start again: no address")
	}
}
