package dns

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// forward asks the upstreams in turn and relays the first answer that
// is not SERVFAIL or REFUSED (NXDOMAIN is an answer); when every upstream
// failed so, the last such answer, and SERVFAIL when none answered.
func (s *Server) forward(ctx context.Context, client netip.Addr, r *mdns.Msg) *mdns.Msg {
	select {
	case s.forwards <- struct{}{}:
		defer func() { <-s.forwards }()
	default:
		s.log.Debug("dns forward: too many in flight", "name", r.Question[0].Name)
		return rcode(r, mdns.RcodeServerFailure)
	}
	q := upstreamQuery(r)
	var last *mdns.Msg
	for _, up := range s.upstreamsOf(client) {
		if !up.IsValid() || s.listening(up) {
			continue
		}
		resp, err := s.exchange(ctx, up, q)
		if err != nil {
			s.log.Debug("dns forward", "upstream", up, "name", q.Question[0].Name, "error", err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if resp.Rcode == mdns.RcodeServerFailure || resp.Rcode == mdns.RcodeRefused {
			last = resp
			continue
		}
		return relay(r, resp)
	}
	if last != nil {
		return relay(r, last)
	}
	return rcode(r, mdns.RcodeServerFailure)
}

// upstreamsOf are the resolvers client's queries are forwarded to.
func (s *Server) upstreamsOf(client netip.Addr) []netip.AddrPort {
	if c, ok := s.lookup.(ClientUpstreams); ok {
		if ups, ok := c.LookupUpstreams(client); ok {
			return ups
		}
	}
	return s.upstreams()
}

// upstreamQuery is r's question as berthd asks it: a new ID, r's RD and
// CD bits, EDNS with maxUDP and r's DO bit, none of r's other options.
func upstreamQuery(r *mdns.Msg) *mdns.Msg {
	q := new(mdns.Msg)
	q.Id = mdns.Id()
	q.RecursionDesired = r.RecursionDesired
	q.CheckingDisabled = r.CheckingDisabled
	q.Question = []mdns.Question{r.Question[0]}
	do := false
	if opt := r.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	q.SetEdns0(maxUDP, do)
	return q
}

// exchange asks one upstream: over UDP, then over TCP when the answer
// was truncated. The answer must be to q's question.
func (s *Server) exchange(ctx context.Context, up netip.AddrPort, q *mdns.Msg) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	resp, err := s.exchangeOver(ctx, "udp", up, q)
	if err == nil && resp.Truncated {
		resp, err = s.exchangeOver(ctx, "tcp", up, q)
	}
	if err != nil {
		return nil, err
	}
	if len(resp.Question) != 1 || !sameQuestion(resp.Question[0], q.Question[0]) {
		return nil, fmt.Errorf("answer from %s to another question", up)
	}
	return resp, nil
}

// exchangeOver asks one upstream over network ("udp" or "tcp").
func (s *Server) exchangeOver(ctx context.Context, network string, up netip.AddrPort, q *mdns.Msg) (*mdns.Msg, error) {
	c, err := s.dial(ctx, network, up.String())
	if err != nil {
		return nil, fmt.Errorf("dial %s %s: %w", network, up, err)
	}
	defer c.Close()
	// The client checks the answer's ID (and skips stray UDP datagrams).
	cl := mdns.Client{Net: network, Timeout: upstreamTimeout}
	resp, _, err := cl.ExchangeWithConnContext(ctx, q, &mdns.Conn{Conn: c})
	if err != nil {
		return nil, fmt.Errorf("ask %s over %s: %w", up, network, err)
	}
	return resp, nil
}

func sameQuestion(a, b mdns.Question) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// relay turns an upstream's answer into the answer to r: r's ID and
// question (its case), no OPT or TSIG of the upstream's (ours when r had
// EDNS). An extended RCODE, which needs the upstream's OPT, becomes
// SERVFAIL.
func relay(r, resp *mdns.Msg) *mdns.Msg {
	if resp.Rcode > 0xF {
		return rcode(r, mdns.RcodeServerFailure)
	}
	resp.Id = r.Id
	resp.Question = []mdns.Question{r.Question[0]}
	extra := resp.Extra[:0]
	for _, rr := range resp.Extra {
		switch rr.Header().Rrtype {
		case mdns.TypeOPT, mdns.TypeTSIG, mdns.TypeSIG:
			continue
		}
		extra = append(extra, rr)
	}
	resp.Extra = extra
	resp.Truncated = false // TCP answered when UDP truncated; cut again for r
	if opt := r.IsEdns0(); opt != nil {
		resp.SetEdns0(maxUDP, opt.Do())
	}
	resp.Compress = true
	return resp
}
