package network_test

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/berth-dev/berth/internal/netlab"
)

// outsideName is the name the fake upstream in the outside namespace
// answers, with outsideAddr (TEST-NET-3, no real host's).
const (
	outsideName = "outside.example"
	outsideAddr = "203.0.113.7"
)

// serveUpstream starts a DNS server on the outside namespace's address,
// port 53 (UDP), which knows outsideName only (NXDOMAIN for the rest).
func serveUpstream(t *testing.T, d *daemon) string {
	t.Helper()
	addr := net.JoinHostPort(extOutside.Addr().String(), "53")
	var pc net.PacketConn
	if err := netlab.In(d.Outside, func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
		t.Fatalf("listen on %s outside: %v", addr, err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch {
		case strings.EqualFold(q.Name, outsideName+".") && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR(outsideName + ". 60 IN A " + outsideAddr)
			m.Answer = append(m.Answer, rr)
		case !strings.EqualFold(q.Name, outsideName+"."):
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return extOutside.Addr().String()
}

// TestDNSServersAndRename: a container with --dns on a user network
// keeps the embedded DNS in its resolv.conf, which answers the other
// containers' names and forwards the rest to the --dns server (the fake
// upstream outside), as Docker's does; a container without --dns, or
// only on internal networks, is not forwarded there. docker rename changes the DNS name on the network at
// once. A container's exit publishes die before network disconnect.
func TestDNSServersAndRename(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	upstream := serveUpstream(t, d)
	d.OK("network", "create", "named")
	d.OK("run", "-d", "--name", "web", "--network", "named", d.Image, "sleep", "600")
	d.OK("run", "-d", "--name", "asker", "--network", "named", "--dns", upstream, d.Image, "sleep", "600")
	d.OK("run", "-d", "--name", "plain", "--network", "named", d.Image, "sleep", "600")
	webIP := d.ctrNet("web").NetworkSettings.Networks["named"].IPAddress
	gw := d.ctrNet("asker").NetworkSettings.Networks["named"].Gateway

	resolv := d.OK("exec", "asker", "cat", "/etc/resolv.conf")
	if !strings.Contains(resolv+"\n", "nameserver "+gw+"\n") || strings.Contains(resolv, upstream) {
		t.Errorf("resolv.conf with --dns %s:\n%s\nwant nameserver %s only", upstream, resolv, gw)
	}
	lookup := func(ctr, name string) string {
		return d.Docker("exec", ctr, "nslookup", "-type=a", name).Stdout
	}
	for _, tc := range []struct{ name, want string }{{outsideName, outsideAddr}, {"web", webIP}} {
		if out := lookup("asker", tc.name); !strings.Contains(out, "Address: "+tc.want) {
			t.Errorf("nslookup %s from asker (--dns %s):\n%s\nwant Address: %s", tc.name, upstream, out, tc.want)
		}
	}
	if out := lookup("plain", outsideName); strings.Contains(out, outsideAddr) {
		t.Errorf("nslookup %s from plain (no --dns):\n%s\nwant no %s: only --dns sends it outside", outsideName, out, outsideAddr)
	}
	// A container only on internal networks has no way out: its
	// queries go nowhere, --dns or not (as Docker's).
	d.OK("network", "create", "--internal", "closed")
	d.OK("run", "-d", "--name", "shut", "--network", "closed", "--dns", upstream, d.Image, "sleep", "600")
	if out := lookup("shut", outsideName); strings.Contains(out, outsideAddr) {
		t.Errorf("nslookup %s from an internal network with --dns:\n%s\nwant no %s", outsideName, out, outsideAddr)
	}

	d.OK("rename", "web", "web2")
	if out := lookup("asker", "web2"); !strings.Contains(out, "Address: "+webIP) {
		t.Errorf("nslookup web2 after rename web web2:\n%s\nwant Address: %s", out, webIP)
	}
	if out := lookup("asker", "web"); strings.Contains(out, "Address: "+webIP) {
		t.Errorf("nslookup web after rename web web2:\n%s\nwant no Address: %s", out, webIP)
	}

	// dockerd's order at an exit: die, then the network's disconnect.
	since := d.OK("system", "info", "-f", "{{.SystemTime}}")
	id := d.OK("inspect", "-f", "{{.Id}}", "plain")
	d.OK("stop", "-t", "1", "plain")
	ev := d.OK("events", "--since", since, "--until", d.OK("system", "info", "-f", "{{.SystemTime}}"),
		"--format", "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.container}}")
	die, disc := strings.Index(ev, "container die "+id), strings.Index(ev, "network disconnect")
	if die < 0 || disc < 0 || die > disc {
		t.Errorf("events of a stop:\n%s\nwant container die before network disconnect", ev)
	}
}
