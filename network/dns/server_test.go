package dns

import (
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/vishvananda/netlink"
)

func TestServer(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		network string
		q       *mdns.Msg
		rcode   int
		want    []string // the answers' data, in any order
		tc      bool
	}{
		{"name", "udp", query("web.", mdns.TypeA), mdns.RcodeSuccess, []string{"10.53.0.10"}, false},
		{"name over tcp", "tcp", query("web.", mdns.TypeA), mdns.RcodeSuccess, []string{"10.53.0.10"}, false},
		{"case and network", "udp", query("WEB.Net1.", mdns.TypeA), mdns.RcodeSuccess, []string{"10.53.0.10"}, false},
		{"alias", "udp", query("db.", mdns.TypeA), mdns.RcodeSuccess, []string{"10.53.0.10"}, false},
		{"short id", "udp", query("0123456789ab.", mdns.TypeA), mdns.RcodeSuccess, []string{"10.53.0.10"}, false},
		{"aaaa of a container", "udp", query("web.", mdns.TypeAAAA), mdns.RcodeSuccess, nil, false},
		{"ptr", "udp", query("10.0.53.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess, []string{"web.net1."}, false},
		{"forward", "udp", query("example.com.", mdns.TypeA), mdns.RcodeSuccess, []string{"192.0.2.1"}, false},
		{"forward over tcp", "tcp", query("Example.COM.", mdns.TypeA), mdns.RcodeSuccess, []string{"192.0.2.1"}, false},
		{"nxdomain", "udp", query("nx.example.", mdns.TypeA), mdns.RcodeNameError, nil, false},
		{"upstream servfail", "udp", query("fail.example.", mdns.TypeA), mdns.RcodeServerFailure, nil, false},
		{"any refused", "udp", query("web.", mdns.TypeANY), mdns.RcodeRefused, nil, false},
		{"many truncated", "udp", query("many.", mdns.TypeA), mdns.RcodeSuccess, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mustAsk(t, tt.network, tt.q)
			if r.Rcode != tt.rcode {
				t.Errorf("got rcode %s, want %s", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tt.rcode])
			}
			if r.Truncated != tt.tc {
				t.Errorf("got TC %v, want %v", r.Truncated, tt.tc)
			}
			if tt.tc {
				return
			}
			if got := rdata(r); !slices.Equal(got, tt.want) {
				t.Errorf("got answers %q, want %q", got, tt.want)
			}
			if r.Question[0].Name != tt.q.Question[0].Name {
				t.Errorf("got question %q, want %q", r.Question[0].Name, tt.q.Question[0].Name)
			}
		})
	}
}

// rdata is the data of the answers, sorted.
func rdata(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA:
			out = append(out, rr.AAAA.String())
		case *mdns.PTR:
			out = append(out, rr.Ptr)
		case *mdns.TXT:
			out = append(out, rr.Txt...)
		}
	}
	slices.Sort(out)
	return out
}

// TestServerTruncation: an upstream's truncated UDP answer is asked again
// over TCP; a client over UDP gets it cut to its size with TC, over TCP
// whole; local answers too.
func TestServerTruncation(t *testing.T) {
	e := newEnv(t)
	r := e.mustAsk(t, "udp", query("big.example.", mdns.TypeTXT))
	if !r.Truncated || r.Rcode != mdns.RcodeSuccess {
		t.Errorf("over UDP: got TC %v rcode %s, want TC and NOERROR", r.Truncated, mdns.RcodeToString[r.Rcode])
	}
	if n := e.upstream.tcp.Load(); n != 1 {
		t.Errorf("got %d upstream TCP queries, want 1", n)
	}
	r = e.mustAsk(t, "tcp", query("big.example.", mdns.TypeTXT))
	if r.Truncated || len(r.Answer) != 40 {
		t.Errorf("over TCP: got TC %v and %d answers, want no TC and 40", r.Truncated, len(r.Answer))
	}
	r = e.mustAsk(t, "tcp", query("many.", mdns.TypeA))
	if r.Truncated || len(r.Answer) != 100 {
		t.Errorf("many over TCP: got TC %v and %d answers, want no TC and 100", r.Truncated, len(r.Answer))
	}
	q := query("many.", mdns.TypeA)
	q.SetEdns0(4096, false)
	r = e.mustAsk(t, "udp", q)
	r.Compress = true // as it came: Len counts uncompressed otherwise
	if !r.Truncated || r.Len() > maxUDP {
		t.Errorf("many with EDNS 4096: got TC %v, %d bytes, want TC and at most %d", r.Truncated, r.Len(), maxUDP)
	}
}

// TestServerUpstreams: upstreams are tried in turn; SERVFAIL when none
// answers, or when the only one is gone.
func TestServerUpstreams(t *testing.T) {
	e := newEnv(t)
	good := netip.AddrPortFrom(upstreamIP, Port)
	own := netip.AddrPortFrom(gwIP, Port)
	tests := []struct {
		name  string
		ups   []netip.AddrPort
		rcode int
	}{
		{"dead then good", []netip.AddrPort{deadUpstream, good}, mdns.RcodeSuccess},
		{"dead only", []netip.AddrPort{deadUpstream}, mdns.RcodeServerFailure},
		{"none", nil, mdns.RcodeServerFailure},
		{"itself skipped", []netip.AddrPort{own, good}, mdns.RcodeSuccess},
		{"itself only", []netip.AddrPort{own}, mdns.RcodeServerFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.setUpstreams(tt.ups...)
			r := e.mustAsk(t, "udp", query("example.com.", mdns.TypeA))
			if r.Rcode != tt.rcode {
				t.Errorf("got rcode %s, want %s", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tt.rcode])
			}
		})
	}
	e.setUpstreams(good)
	e.upstream.close()
	if r := e.mustAsk(t, "udp", query("example.com.", mdns.TypeA)); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("upstream gone: got rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
	}
	// Names of containers do not need the upstream.
	if r := e.mustAsk(t, "udp", query("web.", mdns.TypeA)); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("upstream gone, container name: got rcode %s, %d answers, want NOERROR and 1", mdns.RcodeToString[r.Rcode], len(r.Answer))
	}
}

// TestServerClientUpstreams: a Lookup that names a client's upstreams
// wins over the server's; none means no forwarding.
func TestServerClientUpstreams(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		from   netip.Addr
		q      string
		rcode  int
		answer int
	}{
		{"default upstreams", clientIP, "example.com.", mdns.RcodeSuccess, 1},
		{"internal only", internalIP, "example.com.", mdns.RcodeServerFailure, 0},
		{"internal, a container", internalIP, "web.", mdns.RcodeSuccess, 1},
		{"own dead upstream", ownDNSIP, "example.com.", mdns.RcodeServerFailure, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.ask(t, "udp", tt.from, gwIP, query(tt.q, mdns.TypeA))
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.rcode || len(r.Answer) != tt.answer {
				t.Errorf("got rcode %s, %d answers, want %s and %d", mdns.RcodeToString[r.Rcode], len(r.Answer), mdns.RcodeToString[tt.rcode], tt.answer)
			}
		})
	}
}

// TestServerStranger: an address that is no container gets REFUSED, a
// local name and a forward alike.
func TestServerStranger(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"web.", "example.com."} {
		for _, network := range []string{"udp", "tcp"} {
			r, err := e.ask(t, network, strangerIP, gwIP, query(name, mdns.TypeA))
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != mdns.RcodeRefused || len(r.Answer) != 0 {
				t.Errorf("%s over %s: got rcode %s, %d answers, want REFUSED and none", name, network, mdns.RcodeToString[r.Rcode], len(r.Answer))
			}
		}
	}
	if n := e.upstream.tcp.Load(); n != 0 {
		t.Errorf("got %d upstream queries over TCP, want 0", n)
	}
}

// TestServerListen: Listen on many addresses, Unlisten one, Close all;
// no socket is left and the port can be bound again.
func TestServerListen(t *testing.T) {
	e := newEnv(t)
	if err := e.listen(gwIP); err != nil {
		t.Fatalf("second Listen: %v", err)
	}
	if err := e.listen(gw2IP); err != nil {
		t.Fatal(err)
	}
	for _, a := range []netip.Addr{gwIP, gw2IP} {
		if got := e.portSockets(t, a); len(got) != 2 {
			t.Errorf("listening on %s: got sockets %q, want one UDP and one TCP", a, got)
		}
		for _, network := range []string{"udp", "tcp"} {
			r, err := e.ask(t, network, clientIP, a, query("web.", mdns.TypeA))
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("ask %s over %s: got %v, %v, want an answer", a, network, r, err)
			}
		}
	}

	e.srv.Unlisten(gwIP)
	if got := e.portSockets(t, gwIP); len(got) != 0 {
		t.Errorf("after Unlisten: got sockets %q, want none", got)
	}
	if err := e.bindable(gwIP); err != nil {
		t.Errorf("bind after Unlisten: %v", err)
	}
	if r, err := e.ask(t, "udp", clientIP, gw2IP, query("web.", mdns.TypeA)); err != nil || len(r.Answer) != 1 {
		t.Errorf("other address after Unlisten: got %v, %v, want an answer", r, err)
	}
	e.srv.Unlisten(gwIP) // again: nothing to do
	if err := e.listen(gwIP); err != nil {
		t.Fatalf("Listen after Unlisten: %v", err)
	}

	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []netip.Addr{gwIP, gw2IP} {
		if got := e.portSockets(t, a); len(got) != 0 {
			t.Errorf("after Close: got sockets on %s %q, want none", a, got)
		}
		if err := e.bindable(a); err != nil {
			t.Errorf("bind after Close: %v", err)
		}
	}
	if err := e.listen(gwIP); err == nil {
		t.Error("Listen after Close: got no error, want one")
	}
}

// TestServerFreebind: Listen works on an address the namespace does not
// have yet, and serves it once it comes.
func TestServerFreebind(t *testing.T) {
	e := newEnv(t)
	later := netip.MustParseAddr("10.53.2.1")
	if err := e.listen(later); err != nil {
		t.Fatalf("Listen before the address exists: %v", err)
	}
	if got := e.portSockets(t, later); len(got) != 2 {
		t.Errorf("got sockets %q, want one UDP and one TCP", got)
	}
	if err := e.listen(netip.MustParseAddr("fd53::1")); err != nil {
		t.Errorf("Listen on an IPv6 address the namespace does not have: %v", err)
	}
	err := e.do(func() error {
		l, err := netlink.LinkByName("dns0")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(l, &netlink.Addr{IPNet: mustIPNet("10.53.2.1/24")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.ask(t, "udp", clientIP, later, query("web.", mdns.TypeA)); err != nil || len(r.Answer) != 1 {
		t.Errorf("ask once the address came: got %v, %v, want an answer", r, err)
	}
}
