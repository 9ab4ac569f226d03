package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// offlineServer is a server whose upstreams can never be reached: a
// forward fails without any traffic.
func offlineServer() *Server {
	s := New(Options{Lookup: testLookup(), Upstreams: func() []netip.AddrPort {
		return []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53")}
	}})
	s.dial = func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("offline") }
	return s
}

func serve(s *Server, from netip.Addr, tcp bool, r *mdns.Msg) *recorder {
	w := &recorder{remote: &net.UDPAddr{IP: from.AsSlice(), Port: 40000}}
	if tcp {
		w.remote = &net.TCPAddr{IP: from.AsSlice(), Port: 40000}
	}
	handler{s: s, ctx: context.Background()}.ServeDNS(w, r)
	return w
}

func query(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func TestAnswer(t *testing.T) {
	notify := query("web.", mdns.TypeSOA)
	notify.Opcode = mdns.OpcodeNotify
	resp := query("web.", mdns.TypeA)
	resp.Response = true
	two := query("web.", mdns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	chaos := query("version.bind.", mdns.TypeTXT)
	chaos.Question[0].Qclass = mdns.ClassCHAOS
	edns1 := query("web.", mdns.TypeA)
	edns1.SetEdns0(1232, false)
	edns1.IsEdns0().SetVersion(1)
	tests := []struct {
		name    string
		from    netip.Addr
		q       *mdns.Msg
		rcode   int // -1: no answer at all
		answers int
	}{
		{"name", clientIP, query("web.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"case", clientIP, query("WeB.Net1.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"alias with network", clientIP, query("DB.net1.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"short id with network", clientIP, query("0123456789ab.net1.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"alias with another network", clientIP, query("db.net2.", mdns.TypeA), mdns.RcodeServerFailure, 0},
		{"alias", clientIP, query("db.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"short id", clientIP, query("0123456789AB.", mdns.TypeA), mdns.RcodeSuccess, 1},
		{"aaaa of v4 name", clientIP, query("web.", mdns.TypeAAAA), mdns.RcodeSuccess, 0},
		{"aaaa of v6 name", clientIP, query("six.", mdns.TypeAAAA), mdns.RcodeSuccess, 1},
		{"mx of a name", clientIP, query("web.", mdns.TypeMX), mdns.RcodeSuccess, 0},
		{"ptr", clientIP, query("10.0.53.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess, 1},
		{"ptr v6", clientIP, query("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", mdns.TypePTR), mdns.RcodeSuccess, 1},
		{"unknown forwarded, offline", clientIP, query("example.com.", mdns.TypeA), mdns.RcodeServerFailure, 0},
		{"ptr unknown forwarded", clientIP, query("1.0.0.127.in-addr.arpa.", mdns.TypePTR), mdns.RcodeServerFailure, 0},
		{"stranger", strangerIP, query("web.", mdns.TypeA), mdns.RcodeRefused, 0},
		{"any", clientIP, query("web.", mdns.TypeANY), mdns.RcodeRefused, 0},
		{"axfr", clientIP, query("net1.", mdns.TypeAXFR), mdns.RcodeRefused, 0},
		{"chaos", clientIP, chaos, mdns.RcodeRefused, 0},
		{"notify", clientIP, notify, mdns.RcodeNotImplemented, 0},
		{"two questions", clientIP, two, mdns.RcodeFormatError, 0},
		{"edns version 1", clientIP, edns1, mdns.RcodeBadVers, 0},
		{"response", clientIP, resp, -1, 0},
	}
	s := offlineServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(s, tt.from, false, tt.q)
			if tt.rcode < 0 {
				if w.msg != nil {
					t.Fatalf("got answer %v, want none", w.msg)
				}
				return
			}
			if w.msg == nil {
				t.Fatal("got no answer")
			}
			if w.msg.Rcode != tt.rcode {
				t.Errorf("got rcode %s, want %s", mdns.RcodeToString[w.msg.Rcode], mdns.RcodeToString[tt.rcode])
			}
			if len(w.msg.Answer) != tt.answers {
				t.Errorf("got %d answers, want %d: %v", len(w.msg.Answer), tt.answers, w.msg.Answer)
			}
			if w.msg.Id != tt.q.Id {
				t.Errorf("got ID %d, want %d", w.msg.Id, tt.q.Id)
			}
			for _, rr := range w.msg.Answer {
				if rr.Header().Name != tt.q.Question[0].Name {
					t.Errorf("got owner %q, want the question's %q", rr.Header().Name, tt.q.Question[0].Name)
				}
				if rr.Header().Ttl != ttl {
					t.Errorf("got TTL %d, want %d", rr.Header().Ttl, ttl)
				}
			}
		})
	}
}

func TestAnswerRecords(t *testing.T) {
	s := offlineServer()
	w := serve(s, clientIP, false, query("WEB.", mdns.TypeA))
	if a, ok := w.msg.Answer[0].(*mdns.A); !ok || a.A.String() != webIP.String() {
		t.Errorf("got %v, want an A record of %s", w.msg.Answer[0], webIP)
	}
	w = serve(s, clientIP, false, query("10.0.53.10.in-addr.arpa.", mdns.TypePTR))
	if p, ok := w.msg.Answer[0].(*mdns.PTR); !ok || p.Ptr != "web.net1." {
		t.Errorf("got %v, want a PTR to web.net1.", w.msg.Answer[0])
	}
}

// TestAnswerSize: a UDP answer fits the client's buffer (512 without
// EDNS, at most maxUDP with it) and is marked truncated; TCP gets all.
func TestAnswerSize(t *testing.T) {
	big := query("many.", mdns.TypeA)
	bigEDNS := query("many.", mdns.TypeA)
	bigEDNS.SetEdns0(4096, false)
	tests := []struct {
		name      string
		q         *mdns.Msg
		tcp       bool
		max       int
		truncated bool
	}{
		{"udp", big, false, 512, true},
		{"udp edns 4096", bigEDNS, false, maxUDP, true},
		{"tcp", big, true, mdns.MaxMsgSize, false},
	}
	s := offlineServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(s, clientIP, tt.tcp, tt.q)
			if len(w.packed) > tt.max {
				t.Errorf("got %d bytes, want at most %d", len(w.packed), tt.max)
			}
			if w.msg.Truncated != tt.truncated {
				t.Errorf("got TC %v, want %v", w.msg.Truncated, tt.truncated)
			}
			if !tt.truncated && len(w.msg.Answer) != 100 {
				t.Errorf("got %d answers, want 100", len(w.msg.Answer))
			}
		})
	}
}

func TestAccept(t *testing.T) {
	tests := []struct {
		name string
		h    mdns.Header
		want mdns.MsgAcceptAction
	}{
		{"query", mdns.Header{Qdcount: 1}, mdns.MsgAccept},
		{"query with opt", mdns.Header{Qdcount: 1, Arcount: 1}, mdns.MsgAccept},
		{"response", mdns.Header{Bits: 1 << 15, Qdcount: 1}, mdns.MsgIgnore},
		{"update", mdns.Header{Bits: mdns.OpcodeUpdate << 11, Qdcount: 1}, mdns.MsgRejectNotImplemented},
		{"notify", mdns.Header{Bits: mdns.OpcodeNotify << 11, Qdcount: 1}, mdns.MsgRejectNotImplemented},
		{"no question", mdns.Header{}, mdns.MsgReject},
		{"answers", mdns.Header{Qdcount: 1, Ancount: 1}, mdns.MsgReject},
		{"authority", mdns.Header{Qdcount: 1, Nscount: 1}, mdns.MsgReject},
		{"two additional", mdns.Header{Qdcount: 1, Arcount: 2}, mdns.MsgReject},
	}
	for _, tt := range tests {
		if got := accept(tt.h); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestReverseAddr(t *testing.T) {
	tests := []struct {
		name string
		want string // empty: not a reverse name
	}{
		{"2.0.18.172.in-addr.arpa", "172.18.0.2"},
		{"0.18.172.in-addr.arpa", ""},
		{"02.0.18.172.in-addr.arpa", ""},
		{"256.0.18.172.in-addr.arpa", ""},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "::1"},
		{"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa", "4321:0:1:2:3:4:567:89ab"},
		{"1.0.0.ip6.arpa", ""},
		{"x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", ""},
		{"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", ""},
		{"..0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", ""},
		{"web", ""},
	}
	for _, tt := range tests {
		a, ok := reverseAddr(tt.name)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("reverseAddr(%q): got %q, want %q", tt.name, got, tt.want)
		}
	}
}
