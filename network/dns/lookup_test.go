package dns

import (
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// fakeLookup knows a few containers; clients are the containers that may
// ask (every one of them can see every name here).
type fakeLookup struct {
	names map[string][]netip.Addr
	ptrs  map[netip.Addr][]string
	ups   map[netip.Addr][]netip.AddrPort // clients with their own upstreams
}

func (f *fakeLookup) LookupUpstreams(client netip.Addr) ([]netip.AddrPort, bool) {
	u, ok := f.ups[client]
	return u, ok
}

func (f *fakeLookup) LookupName(client netip.Addr, name string) []netip.Addr {
	if len(f.ptrs[client]) == 0 {
		return nil
	}
	return f.names[name]
}

func (f *fakeLookup) LookupAddr(client, addr netip.Addr) []string {
	if len(f.ptrs[client]) == 0 {
		return nil
	}
	return f.ptrs[addr]
}

var (
	clientIP   = netip.MustParseAddr("10.53.0.2")
	strangerIP = netip.MustParseAddr("10.53.0.4")
	webIP      = netip.MustParseAddr("10.53.0.10")
	// internalIP is a client only on internal networks: no forwarding.
	internalIP = netip.MustParseAddr("10.53.0.5")
	// ownDNSIP is a client with its own upstreams (--dns), dead ones.
	ownDNSIP = netip.MustParseAddr("10.53.0.6")
)

// testLookup: "client" asks; "web" (alias "db", short ID "0123456789ab")
// and "many" (100 addresses, as an alias shared by many containers).
func testLookup() *fakeLookup {
	f := &fakeLookup{
		names: map[string][]netip.Addr{
			"client":       {clientIP},
			"web":          {webIP},
			"web.net1":     {webIP},
			"db":           {webIP},
			"0123456789ab": {webIP},
			"six":          {netip.MustParseAddr("fd00::6")},
		},
		ptrs: map[netip.Addr][]string{
			clientIP:                       {"client.net1"},
			webIP:                          {"web.net1"},
			netip.MustParseAddr("fd00::6"): {"six.net1"},
			internalIP:                     {"internal.net2"},
			ownDNSIP:                       {"owndns.net1"},
		},
		ups: map[netip.Addr][]netip.AddrPort{internalIP: nil, ownDNSIP: {deadUpstream}},
	}
	for i := range 100 {
		f.names["many"] = append(f.names["many"], netip.AddrFrom4([4]byte{10, 54, byte(i / 200), byte(1 + i%200)}))
	}
	return f
}

// recorder is a ResponseWriter that keeps what is written.
type recorder struct {
	remote net.Addr
	msg    *mdns.Msg
	packed []byte
}

func (w *recorder) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(10, 53, 0, 1), Port: Port} }
func (w *recorder) RemoteAddr() net.Addr { return w.remote }
func (w *recorder) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	w.msg, w.packed = m, b
	return nil
}
func (w *recorder) Write(b []byte) (int, error) { w.packed = b; return len(b), nil }
func (w *recorder) Close() error                { return nil }
func (w *recorder) TsigStatus() error           { return nil }
func (w *recorder) TsigTimersOnly(bool)         {}
func (w *recorder) Hijack()                     {}
