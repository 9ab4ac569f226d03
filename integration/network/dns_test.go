package network_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/berth-dev/berth/internal/netlab"
)

// TestEmbeddedDNS: containers on a user network find each other by name,
// alias, short ID and NAME.NETWORK (any case), and by address (PTR),
// through the embedded DNS on the network's gateway, which their
// resolv.conf names; a container on another network does not see them;
// the host itself is refused.
func TestEmbeddedDNS(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "net1")
	d.OK("network", "create", "net2")
	webID := d.OK("run", "-d", "--name", "web", "--network", "net1", "--network-alias", "db", d.Image, "sleep", "600")
	d.OK("run", "-d", "--name", "client", "--network", "net1", d.Image, "sleep", "600")
	// busybox's nslookup asks NAME.SEARCH too, which the test's dead
	// upstreams fail: search domains only where no name is asked.
	d.OK("run", "-d", "--name", "searcher", "--network", "net1", "--dns-search", "corp.example", d.Image, "sleep", "600")
	d.OK("run", "-d", "--name", "other", "--network", "net2", d.Image, "sleep", "600")
	webIP := d.ctrNet("web").NetworkSettings.Networks["net1"].IPAddress
	gw := d.ctrNet("client").NetworkSettings.Networks["net1"].Gateway
	if webIP == "" || gw == "" {
		t.Fatalf("inspect: web's address %q, client's gateway %q, want both", webIP, gw)
	}

	resolv := d.OK("exec", "searcher", "cat", "/etc/resolv.conf")
	for _, want := range []string{"nameserver " + gw + "\n", "search corp.example\n", "ndots:0"} {
		if !strings.Contains(resolv+"\n", want) {
			t.Errorf("resolv.conf with --dns-search:\n%s\nwant %q", resolv, want)
		}
	}

	for _, name := range []string{"web", "WEB", "db", webID[:12], "web.net1", "Db.Net1"} {
		out := d.OK("exec", "client", "nslookup", "-type=a", name)
		if !strings.Contains(out, "Address: "+webIP) {
			t.Errorf("nslookup %s from client:\n%s\nwant Address: %s", name, out, webIP)
		}
	}
	if out := d.OK("exec", "client", "nslookup", webIP); !strings.Contains(out, "name = web.net1") {
		t.Errorf("nslookup %s from client:\n%s\nwant name = web.net1", webIP, out)
	}
	// Another network: web is not there (the name is forwarded, and
	// no upstream is reachable from the test's namespaces).
	if r := d.Docker("exec", "other", "nslookup", "-type=a", "web"); strings.Contains(r.Stdout, webIP) {
		t.Errorf("nslookup web from net2:\n%s\nwant no answer with %s", r.Stdout, webIP)
	}

	// The host (berthd's namespace) is no container: REFUSED.
	q := new(dns.Msg)
	q.SetQuestion("web.", dns.TypeA)
	var resp *dns.Msg
	err := netlab.In(d.NS, func() error {
		c := dns.Client{Timeout: 5 * time.Second}
		var err error
		resp, _, err = c.Exchange(q, net.JoinHostPort(gw, "53"))
		return err
	})
	if err != nil {
		t.Fatalf("ask %s from the host: %v", gw, err)
	}
	if resp.Rcode != dns.RcodeRefused || len(resp.Answer) != 0 {
		t.Errorf("ask %s from the host: got %s and %d answers, want REFUSED and none", gw, dns.RcodeToString[resp.Rcode], len(resp.Answer))
	}

	// The network gone, nothing listens on its gateway.
	d.OK("rm", "-f", "web", "client", "searcher")
	d.OK("network", "rm", "net1")
	err = netlab.In(d.NS, func() error {
		ap := netip.AddrPortFrom(netip.MustParseAddr(gw), 53).String()
		pc, err := net.ListenPacket("udp", ap)
		if err == nil {
			pc.Close()
		}
		return err
	})
	// Bound, or the address went with the bridge: no listener either way.
	if errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("bind %s:53 after network rm: %v, want no listener left", gw, err)
	}
}
