package dns

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// handler answers the queries that reach one listener; ctx ends when
// the listener stops.
type handler struct {
	s   *Server
	ctx context.Context
}

// accept sorts messages before they are unpacked: responses are dropped
// (a reply to a reply can loop or amplify), other opcodes than QUERY get
// NOTIMP, and a query must hold one question and no answer or authority
// records (the additional section holds at most the OPT record).
func accept(dh mdns.Header) mdns.MsgAcceptAction {
	const qr = 1 << 15
	if dh.Bits&qr != 0 {
		return mdns.MsgIgnore
	}
	if int(dh.Bits>>11)&0xF != mdns.OpcodeQuery {
		return mdns.MsgRejectNotImplemented
	}
	if dh.Qdcount != 1 || dh.Ancount != 0 || dh.Nscount != 0 || dh.Arcount > 1 {
		return mdns.MsgReject
	}
	return mdns.MsgAccept
}

// ServeDNS answers one query and writes the answer, cut to the client's
// size over UDP.
func (h handler) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	client, tcp := clientAddr(w.RemoteAddr())
	resp := h.s.answer(h.ctx, client, r)
	if resp == nil {
		return
	}
	if tcp {
		resp.Truncate(mdns.MaxMsgSize)
	} else {
		resp.Truncate(udpSize(r))
	}
	if err := w.WriteMsg(resp); err != nil {
		h.s.log.Debug("dns reply", "client", client, "error", err)
	}
}

// clientAddr is the client's address and whether it came over TCP.
func clientAddr(a net.Addr) (netip.Addr, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return ap.Addr().Unmap(), false
	case *net.TCPAddr:
		ap := a.AddrPort()
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// udpSize is how large a UDP answer to r may be: the client's EDNS
// buffer, 512 without EDNS, never more than maxUDP.
func udpSize(r *mdns.Msg) int {
	opt := r.IsEdns0()
	if opt == nil {
		return mdns.MinMsgSize
	}
	return max(mdns.MinMsgSize, min(int(opt.UDPSize()), maxUDP))
}

// answer is the answer to r from client; nil: none at all.
func (s *Server) answer(ctx context.Context, client netip.Addr, r *mdns.Msg) *mdns.Msg {
	switch {
	case r.Response:
		return nil
	case r.Opcode != mdns.OpcodeQuery:
		return rcode(r, mdns.RcodeNotImplemented)
	case len(r.Question) != 1 || len(r.Answer) != 0 || len(r.Ns) != 0:
		return rcode(r, mdns.RcodeFormatError)
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		m := rcode(r, mdns.RcodeBadVers) // RFC 6891 6.1.3
		m.SetEdns0(maxUDP, false)
		return m
	}
	if !client.IsValid() || s.lookup == nil || len(s.lookup.LookupAddr(client, client)) == 0 {
		return rcode(r, mdns.RcodeRefused)
	}
	q := r.Question[0]
	if q.Qclass != mdns.ClassINET {
		return rcode(r, mdns.RcodeRefused)
	}
	switch q.Qtype {
	case mdns.TypeANY, mdns.TypeAXFR, mdns.TypeIXFR, mdns.TypeMAILA, mdns.TypeMAILB:
		return rcode(r, mdns.RcodeRefused)
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	if q.Qtype == mdns.TypePTR {
		if addr, ok := reverseAddr(name); ok {
			if names := s.lookup.LookupAddr(client, addr); len(names) > 0 {
				return local(r, ptrRecords(q.Name, names))
			}
		}
	} else if name != "" {
		if addrs := s.lookupName(client, name); len(addrs) > 0 {
			return local(r, addrRecords(q, addrs))
		}
	}
	return s.forward(ctx, client, r)
}

// lookupName asks the Lookup for name, then, as Docker's resolver
// does, for "NAME.NETWORK" (the network's name as a domain, either of
// which may hold dots): the addresses of NAME whose PTR names are on
// NETWORK, so an alias or short ID works with the suffix too.
func (s *Server) lookupName(client netip.Addr, name string) []netip.Addr {
	if addrs := s.lookup.LookupName(client, name); len(addrs) > 0 {
		return addrs
	}
	// At most maxSplits tries, so a name of many labels costs little.
	const maxSplits = 8
	for n, i := 0, strings.IndexByte(name, '.'); n < maxSplits && i > 0 && i < len(name)-1; n++ {
		base, network := name[:i], name[i:] // network keeps its dot: ".mynet"
		var out []netip.Addr
		for _, a := range s.lookup.LookupName(client, base) {
			if slices.ContainsFunc(s.lookup.LookupAddr(client, a), func(n string) bool {
				return strings.HasSuffix(strings.ToLower(n), network)
			}) {
				out = append(out, a)
			}
		}
		if len(out) > 0 {
			return out
		}
		j := strings.IndexByte(name[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return nil
}

// rcode is an empty answer to r with code.
func rcode(r *mdns.Msg, code int) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetRcode(r, code)
	m.RecursionAvailable = true
	return m
}

// local is the answer to r with records from the Lookup.
func local(r *mdns.Msg, rrs []mdns.RR) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = true
	m.Answer = rrs
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(maxUDP, opt.Do())
	}
	return m
}

// addrRecords are the A or AAAA records of addrs that q asks for, in a
// random order as Docker's resolver gives them (round robin between the
// containers sharing an alias); none for other types.
func addrRecords(q mdns.Question, addrs []netip.Addr) []mdns.RR {
	var rrs []mdns.RR
	for _, a := range addrs {
		a = a.Unmap()
		hdr := mdns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: mdns.ClassINET, Ttl: ttl}
		switch {
		case q.Qtype == mdns.TypeA && a.Is4():
			rrs = append(rrs, &mdns.A{Hdr: hdr, A: a.AsSlice()})
		case q.Qtype == mdns.TypeAAAA && a.Is6():
			rrs = append(rrs, &mdns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
		}
	}
	rand.Shuffle(len(rrs), func(i, j int) { rrs[i], rrs[j] = rrs[j], rrs[i] })
	return rrs
}

// ptrRecords are the PTR records naming names.
func ptrRecords(qname string, names []string) []mdns.RR {
	rrs := make([]mdns.RR, 0, len(names))
	for _, n := range names {
		hdr := mdns.RR_Header{Name: qname, Rrtype: mdns.TypePTR, Class: mdns.ClassINET, Ttl: ttl}
		rrs = append(rrs, &mdns.PTR{Hdr: hdr, Ptr: mdns.Fqdn(n)})
	}
	return rrs
}

// reverseAddr is the address a reverse name (lower case, no trailing
// dot) stands for: "2.0.18.172.in-addr.arpa" is 172.18.0.2, and ip6.arpa
// names have 32 nibbles.
func reverseAddr(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		l := strings.Split(rest, ".")
		if len(l) != 4 {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
		return a, err == nil
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		l := strings.Split(rest, ".")
		if len(l) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, nib := range l {
			if len(nib) != 1 {
				return netip.Addr{}, false
			}
			v := strings.IndexByte("0123456789abcdef", nib[0])
			if v < 0 {
				return netip.Addr{}, false
			}
			// Label i is nibble 31-i of the address.
			n := 31 - i
			b[n/2] |= byte(v) << (4 * (1 - n%2))
		}
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}
