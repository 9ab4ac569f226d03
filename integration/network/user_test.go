package network_test

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// TestUserNetworks: containers on a user network reach each other by
// name and alias (embedded DNS); a container on another user network
// reaches neither their addresses nor their names; the user network has
// a way out, an --internal one none; --ip gives the address asked, and
// one in use is refused with nothing left.
func TestUserNetworks(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	ext := listenIn(t, d.Outside, extOutside.Addr().String()+":0")
	outside := fmt.Sprintf("%s:%d", extOutside.Addr(), ext.Port())
	d.OK("network", "create", "front")
	d.OK("network", "create", "back")
	d.OK("network", "create", "--internal", "inner")
	aID := d.OK("run", "-d", "--name", "web", "--network", "front", "--network-alias", "alpha", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "cli", "--network", "front", d.Image, "sleep", "600")
	d.OK("run", "-d", "--name", "far", "--network", "back", d.Image, "sleep", "600")
	aIP := d.ctrNet("web").NetworkSettings.Networks["front"].IPAddress

	for _, name := range []string{"web", "alpha"} {
		if got := d.OK("exec", "cli", "probe", "lookup", name); got != aIP {
			t.Errorf("b looks up %s: got %q, want %s", name, got, aIP)
		}
		r := d.Docker("exec", "cli", "probe", "dial", "tcp", name+":7000")
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, aID[:12]+" FROM=") {
			t.Errorf("b to %s:7000: %q %q, want an answer from a", name, r.Stdout, r.Stderr)
		}
	}
	ep := d.ctrNet("web").NetworkSettings.Networks["front"]
	if !contains(ep.Aliases, "alpha") || !contains(ep.DNSNames, "web") || !contains(ep.DNSNames, "alpha") {
		t.Errorf("inspect a on front: aliases %v DNSNames %v, want alpha among both and a among the names", ep.Aliases, ep.DNSNames)
	}
	// Isolation: back sees neither a's address nor its name.
	if r := d.Docker("exec", "far", "probe", "dial", "tcp", aIP+":7000"); r.Code == 0 {
		t.Errorf("c on back reached a on front at %s: %q", aIP, r.Stdout)
	}
	if r := d.Docker("exec", "far", "probe", "lookup", "web"); r.Code == 0 {
		t.Errorf("c on back resolved a: %q", r.Stdout)
	}
	// A way out from a user network, none from an internal one.
	if out := d.OK("exec", "cli", "probe", "dial", "tcp", outside); !strings.Contains(out, "FROM="+extHost.Addr().String()+":") {
		t.Errorf("b to the external host: %q, want it masqueraded to %s", out, extHost.Addr())
	}
	d.OK("run", "-d", "--name", "i1", "--network", "inner", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "i2", "--network", "inner", d.Image, "sleep", "600")
	if r := d.Docker("exec", "i2", "probe", "dial", "tcp", outside); r.Code == 0 {
		t.Errorf("a container on an internal network reached the external host: %q", r.Stdout)
	}
	if r := d.Docker("exec", "i2", "probe", "dial", "tcp", "i1:7000"); r.Code != 0 {
		t.Errorf("containers on one internal network: %s", r.Stderr)
	}

	// --ip.
	d.OK("network", "create", "--subnet", "10.77.0.0/24", "fixed")
	d.OK("run", "-d", "--name", "s1", "--network", "fixed", "--ip", "10.77.0.50", d.Image, "sleep", "600")
	if got := d.ctrNet("s1").NetworkSettings.Networks["fixed"].IPAddress; got != "10.77.0.50" {
		t.Errorf("--ip 10.77.0.50: inspect says %q", got)
	}
	if out := d.OK("exec", "s1", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, "10.77.0.50/24") {
		t.Errorf("--ip 10.77.0.50: eth0 has %s", out)
	}
	if r := d.Docker("run", "-d", "--name", "s2", "--network", "fixed", "--ip", "10.77.0.50", d.Image, "sleep", "600"); r.Code == 0 || !strings.Contains(r.Stderr, "10.77.0.50") {
		t.Errorf("a second container with --ip 10.77.0.50: exit %d, stderr %q; want a refusal naming the address", r.Code, r.Stderr)
	}
	if r := d.Docker("run", "-d", "--network", "fixed", "--ip", "10.78.0.5", d.Image, "sleep", "600"); r.Code == 0 {
		t.Errorf("--ip outside the subnet: accepted")
	}
	if r := d.Docker("run", "-d", "--network", "nosuch", d.Image, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "network nosuch not found") {
		t.Errorf("an unknown network: exit %d, stderr %q; want \"network nosuch not found\"", r.Code, r.Stderr)
	}
	if n := d.OK("network", "inspect", "-f", "{{len .Containers}}", "fixed"); n != "1" {
		t.Errorf("network fixed after the refusals: %s containers, want only s1", n)
	}
	// A network in use is not removed; once its containers are gone it is.
	if r := d.Docker("network", "rm", "front"); r.Code == 0 {
		t.Errorf("network rm of a network in use: accepted")
	}
	d.OK("rm", "-f", "web", "cli")
	d.OK("network", "rm", "front")
	if d.link("br-"+shortNet(t, d, "back")) == nil {
		t.Errorf("no bridge for network back")
	}
}

// TestConnectDisconnect: a running container joins a second network at
// once (eth1, an address, DNS names on it) and leaves it; a created one
// joins at its start. Events name the network and the container.
func TestConnectDisconnect(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "one")
	d.OK("network", "create", "two")
	d.OK("run", "-d", "--name", "srv", "--network", "two", d.Image, "probe", "serve", "7000")
	id := d.OK("run", "-d", "--name", "far", "--network", "one", d.Image, "sleep", "600")
	if r := d.Docker("exec", "far", "probe", "dial", "tcp", "srv:7000"); r.Code == 0 {
		t.Fatalf("far reached srv before joining its network")
	}
	bridge := "br-" + shortNet(t, d, "two")
	mac := d.link(bridge).Attrs().HardwareAddr.String()
	since := d.OK("system", "info", "-f", "{{.SystemTime}}")
	d.OK("network", "connect", "--alias", "cee", "two", "far")
	n := d.ctrNet("far").NetworkSettings.Networks
	ep2, ok := n["two"]
	if !ok || ep2.IPAddress == "" || n["one"].IPAddress == "" {
		t.Fatalf("after connect: networks %+v, want one and two with addresses", n)
	}
	if out := d.OK("exec", "far", "ip", "-4", "addr", "show", "eth1"); !strings.Contains(out, ep2.IPAddress+"/") {
		t.Errorf("eth1 after connect: %s, want %s", out, ep2.IPAddress)
	}
	if r := d.Docker("exec", "far", "probe", "dial", "tcp", "srv:7000"); r.Code != 0 {
		t.Errorf("c to srv after connect: %s", r.Stderr)
	}
	if got := d.OK("exec", "srv", "probe", "lookup", "cee"); got != ep2.IPAddress {
		t.Errorf("srv looks up c's alias cee: got %q, want %s", got, ep2.IPAddress)
	}
	if stderr := d.Fail("network", "connect", "two", "far"); !strings.Contains(stderr, "already exists") {
		t.Errorf("second connect: %q, want \"already exists\"", stderr)
	}

	d.OK("network", "disconnect", "two", "far")
	if _, ok := d.ctrNet("far").NetworkSettings.Networks["two"]; ok {
		t.Errorf("inspect after disconnect still shows network two")
	}
	if r := d.Docker("exec", "far", "ip", "link", "show", "eth1"); r.Code == 0 {
		t.Errorf("eth1 is still there after disconnect: %s", r.Stdout)
	}
	if r := d.Docker("exec", "far", "probe", "dial", "tcp", ep2.Gateway+":7000"); r.Code == 0 {
		t.Errorf("far reached network two after disconnect")
	}
	// The gateway's MAC stays as the containers learnt it whichever port
	// comes or goes (a bridge whose MAC is not set takes its lowest
	// port's, and the containers' neighbour entries then go stale).
	if got := d.link(bridge).Attrs().HardwareAddr.String(); got != mac {
		t.Errorf("bridge %s changed its MAC from %s to %s as a container left", bridge, mac, got)
	}
	ev := d.OK("events", "--since", since, "--until", d.OK("system", "info", "-f", "{{.SystemTime}}"),
		"--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.container}} {{.Actor.Attributes.name}}")
	for _, want := range []string{"connect " + id + " two", "disconnect " + id + " two"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}

	// A created container joins at start, on both networks.
	d.OK("create", "--name", "late", "--network", "one", d.Image, "probe", "serve", "7000")
	d.OK("network", "connect", "two", "late")
	d.OK("start", "late")
	n = d.ctrNet("late").NetworkSettings.Networks
	if n["one"].IPAddress == "" || n["two"].IPAddress == "" {
		t.Errorf("a created container connected to two: networks at start %+v, want both with addresses", n)
	}
	if r := d.Docker("exec", "srv", "probe", "dial", "tcp", "late:7000"); r.Code != 0 {
		t.Errorf("srv to late on two: %s", r.Stderr)
	}
	if got := d.link(bridge).Attrs().HardwareAddr.String(); got != mac {
		t.Errorf("bridge %s changed its MAC from %s to %s as containers came and went", bridge, mac, got)
	}

	// A static address on connect, to a running container and a created
	// one.
	d.OK("network", "create", "--subnet", "10.66.0.0/24", "three")
	d.OK("network", "connect", "--ip", "10.66.0.9", "three", "far")
	if got := d.ctrNet("far").NetworkSettings.Networks["three"].IPAddress; got != "10.66.0.9" {
		t.Errorf("network connect --ip 10.66.0.9 of a running container: inspect says %q", got)
	}
	d.OK("create", "--name", "quiet", "--network", "one", d.Image, "sleep", "600")
	d.OK("network", "connect", "--ip", "10.66.0.10", "three", "quiet")
	d.OK("start", "quiet")
	if out := d.OK("exec", "quiet", "ip", "-4", "addr"); !strings.Contains(out, "10.66.0.10/24") {
		t.Errorf("network connect --ip 10.66.0.10 of a created container, then start: addresses %s", out)
	}

	// Two networks at create: the first gives eth0 and the default route.
	d.OK("run", "-d", "--name", "multi", "--network", "one", "--network", "two", d.Image, "sleep", "600")
	n = d.ctrNet("multi").NetworkSettings.Networks
	if n["one"].IPAddress == "" || n["two"].IPAddress == "" {
		t.Fatalf("docker run --network one --network two: networks %+v, want both with addresses", n)
	}
	if out := d.OK("exec", "multi", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, n["one"].IPAddress+"/") {
		t.Errorf("multi's eth0: %s, want network one's %s", out, n["one"].IPAddress)
	}
	if out := d.OK("exec", "multi", "ip", "route", "show", "default"); !strings.Contains(out, "via "+n["one"].Gateway) {
		t.Errorf("multi's default route: %s, want via %s", out, n["one"].Gateway)
	}
}

// TestConcurrentRuns: 50 containers started at once on one network get
// 50 distinct addresses, and nothing is left once they are removed.
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "--subnet", "10.88.0.0/24", "many")
	const n = 50
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := d.Docker("run", "-d", "--network", "many", d.Image, "sleep", "600")
			if r.Code != 0 {
				errs[i] = r.Stderr
			}
			ids[i] = strings.TrimSpace(r.Stdout)
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("run %d: %s", i, e)
		}
	}
	seen := map[string]bool{}
	out := d.OK(append([]string{"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"}, ids...)...)
	for _, ip := range strings.Fields(out) {
		a, err := netip.ParseAddr(ip)
		if err != nil || !netip.MustParsePrefix("10.88.0.0/24").Contains(a) {
			t.Errorf("address %q, want one of 10.88.0.0/24", ip)
		}
		if seen[ip] {
			t.Errorf("address %s given twice", ip)
		}
		seen[ip] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct addresses, want %d", len(seen), n)
	}
	d.OK(append([]string{"rm", "-f"}, ids...)...)
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after rm -f of the %d: %v", n, left)
	}
}

// shortNet is a network's ID's first 12 characters.
func shortNet(t *testing.T, d *daemon, name string) string {
	t.Helper()
	return d.OK("network", "inspect", "-f", "{{.ID}}", name)[:12]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
