package dns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testutil"
)

// The test namespace: a bridge with the server's two addresses
// (two networks' gateways), a client container, a stranger and the fake
// upstream resolver.
var (
	gwIP       = netip.MustParseAddr("10.53.0.1")
	gw2IP      = netip.MustParseAddr("10.53.1.1")
	upstreamIP = netip.MustParseAddr("10.53.0.3")
	// deadUpstream is an address of the namespace where nothing listens:
	// a query there is refused at once.
	deadUpstream = netip.AddrPortFrom(upstreamIP, 5300)
)

// env is a server listening in a private network namespace, with a fake
// upstream there. Nothing is sent outside that namespace: every socket,
// the server's forwards included, is made in it.
type env struct {
	ns        string
	srv       *Server
	upstreams atomic.Pointer[[]netip.AddrPort]
	upstream  *fakeUpstream
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequireRoot(t)
	e := &env{ns: testnetns.New(t)}
	err := e.do(func() error {
		// A bridge, as the gateway's link is in berthd (this kernel
		// has no dummy links).
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "dns0"}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("add bridge: %w", err)
		}
		for _, a := range []string{"10.53.0.1/24", "10.53.0.2/24", "10.53.0.3/24", "10.53.0.4/24", "10.53.0.5/24", "10.53.0.6/24", "10.53.1.1/24"} {
			if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: mustIPNet(a)}); err != nil {
				return fmt.Errorf("add address %s: %w", a, err)
			}
		}
		return netlink.LinkSetUp(br)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.upstream = startUpstream(t, e)
	e.setUpstreams(netip.AddrPortFrom(upstreamIP, Port))
	e.srv = New(Options{Lookup: testLookup(), Upstreams: func() []netip.AddrPort { return *e.upstreams.Load() }})
	e.srv.dial = func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = e.do(func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	t.Cleanup(func() { e.srv.Close() })
	if err := e.listen(gwIP); err != nil {
		t.Fatal(err)
	}
	return e
}

func mustIPNet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// do runs f in the namespace.
func (e *env) do(f func() error) error { return testnetns.Do(e.ns, f) }

func (e *env) listen(a netip.Addr) error { return e.do(func() error { return e.srv.Listen(a) }) }

func (e *env) setUpstreams(ups ...netip.AddrPort) { e.upstreams.Store(&ups) }

// ask sends m from the address from to server over network and returns
// the answer.
func (e *env) ask(t *testing.T, network string, from, server netip.Addr, m *mdns.Msg) (*mdns.Msg, error) {
	t.Helper()
	var c net.Conn
	err := e.do(func() (err error) {
		d := net.Dialer{LocalAddr: &net.UDPAddr{IP: from.AsSlice()}}
		if network == "tcp" {
			d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
		}
		c, err = d.Dial(network, netip.AddrPortFrom(server, Port).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := mdns.Client{Net: network, Timeout: 10 * time.Second}
	r, _, err := cl.ExchangeWithConn(m, &mdns.Conn{Conn: c})
	return r, err
}

// mustAsk is ask from the client container to the first gateway.
func (e *env) mustAsk(t *testing.T, network string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	r, err := e.ask(t, network, clientIP, gwIP, m)
	if err != nil {
		t.Fatalf("ask %s over %s: %v", m.Question[0].Name, network, err)
	}
	return r
}

// fakeUpstream is the resolver the server forwards to:
//
//	example.com. A   192.0.2.1
//	nx.example.      NXDOMAIN
//	fail.example.    SERVFAIL
//	big.example. TXT 40 long records: over UDP only TC set, no records
type fakeUpstream struct {
	servers []*mdns.Server
	tcp     atomic.Int32 // queries over TCP
	stop    sync.Once
}

func startUpstream(t *testing.T, e *env) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{}
	var pc net.PacketConn
	var l net.Listener
	err := e.do(func() (err error) {
		ap := netip.AddrPortFrom(upstreamIP, Port).String()
		if pc, err = net.ListenPacket("udp", ap); err != nil {
			return err
		}
		l, err = net.Listen("tcp", ap)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h := mdns.HandlerFunc(u.serve)
	u.servers = []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}}
	for _, s := range u.servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
	}
	t.Cleanup(u.close)
	return u
}

func (u *fakeUpstream) close() {
	u.stop.Do(func() {
		for _, s := range u.servers {
			s.Shutdown()
		}
	})
}

func (u *fakeUpstream) serve(w mdns.ResponseWriter, r *mdns.Msg) {
	_, tcp := w.RemoteAddr().(*net.TCPAddr)
	if tcp {
		u.tcp.Add(1)
	}
	m := new(mdns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	q := r.Question[0]
	switch strings.ToLower(q.Name) {
	case "example.com.":
		if q.Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR(q.Name + " 300 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}
	case "nx.example.":
		m.Rcode = mdns.RcodeNameError
	case "fail.example.":
		m.Rcode = mdns.RcodeServerFailure
	case "big.example.":
		if !tcp {
			m.Truncated = true
			break
		}
		for i := range 40 {
			rr, _ := mdns.NewRR(fmt.Sprintf("%s 300 IN TXT \"%02d%s\"", q.Name, i, strings.Repeat("x", 100)))
			m.Answer = append(m.Answer, rr)
		}
	default:
		m.Rcode = mdns.RcodeNameError
	}
	w.WriteMsg(m)
}

// portSockets lists the sockets of the namespace bound to a:53 (UDP,
// and TCP in LISTEN state), from /proc/thread-self/net/{udp,tcp}.
func (e *env) portSockets(t *testing.T, a netip.Addr) []string {
	t.Helper()
	b := a.As4()
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], Port)
	var out []string
	err := e.do(func() error {
		for _, proto := range []string{"udp", "tcp"} {
			data, err := os.ReadFile("/proc/thread-self/net/" + proto)
			if err != nil {
				return err
			}
			for line := range strings.Lines(string(data)) {
				f := strings.Fields(line)
				if len(f) > 3 && f[1] == local && (proto == "udp" || f[3] == "0A") {
					out = append(out, proto+" "+strings.Join(f[1:4], " "))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bindable reports whether a:53 can be bound again, over UDP and TCP.
func (e *env) bindable(a netip.Addr) error {
	return e.do(func() error {
		ap := netip.AddrPortFrom(a, Port).String()
		pc, err := net.ListenPacket("udp", ap)
		if err != nil {
			return err
		}
		pc.Close()
		l, err := net.Listen("tcp", ap)
		if err != nil {
			return err
		}
		return l.Close()
	})
}
