package dns

import (
	"encoding/binary"
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzServe feeds raw packets through what the server does with a
// datagram or TCP message: the header check, the unpacking, the handler.
// Forwards fail without traffic (offlineServer). An answer must pack,
// carry the query's ID and fit a UDP client's buffer.
func FuzzServe(f *testing.F) {
	for _, q := range []*mdns.Msg{
		query("web.", mdns.TypeA), query("many.", mdns.TypeA), query("example.com.", mdns.TypeAAAA),
		query("10.0.53.10.in-addr.arpa.", mdns.TypePTR), query("web.", mdns.TypeANY),
		query("Db.Net1.", mdns.TypeA), query("a.b.c.d.e.f.g.h.i.j.k.net1.", mdns.TypeA),
	} {
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, false)
	}
	s := offlineServer()
	f.Fuzz(func(t *testing.T, raw []byte, tcp, stranger bool) {
		if len(raw) < 12 {
			return // the server drops it before any handler
		}
		dh := mdns.Header{
			Id: binary.BigEndian.Uint16(raw), Bits: binary.BigEndian.Uint16(raw[2:]),
			Qdcount: binary.BigEndian.Uint16(raw[4:]), Ancount: binary.BigEndian.Uint16(raw[6:]),
			Nscount: binary.BigEndian.Uint16(raw[8:]), Arcount: binary.BigEndian.Uint16(raw[10:]),
		}
		if accept(dh) != mdns.MsgAccept {
			return // the library answers with the header only, or not at all
		}
		r := new(mdns.Msg)
		if err := r.Unpack(raw); err != nil {
			return
		}
		from := clientIP
		if stranger {
			from = strangerIP
		}
		w := serve(s, from, tcp, r)
		if w.msg == nil {
			if !r.Response {
				t.Fatalf("no answer to %v", r)
			}
			return
		}
		if w.msg.Id != dh.Id || !w.msg.Response {
			t.Fatalf("got ID %d response %v, want ID %d response", w.msg.Id, w.msg.Response, dh.Id)
		}
		if limit := udpSize(r); !tcp && len(w.packed) > limit {
			t.Fatalf("got %d bytes over UDP, want at most %d", len(w.packed), limit)
		}
	})
}
