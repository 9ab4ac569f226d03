// Package dns is berthd's embedded DNS server for user networks, the
// counterpart of Docker's resolver at 127.0.0.11. It listens on each user
// network's gateway address (UDP and TCP, port 53) in berthd's network
// namespace; a container on such a network has the gateway as its only
// nameserver (see ResolvConf).
//
// # Answers
//
// A query is answered from the Lookup, which knows the containers, their
// names, aliases and short IDs on the querying container's networks:
//
//	A     name known    the container addresses (TTL 600), shuffled
//	AAAA  name known    the IPv6 addresses, often none: NOERROR, empty
//	other name known    NOERROR, empty (the name exists)
//	PTR   address known the names ("web.mynet.")
//	      anything else forwarded to the upstreams
//
// Names are matched in lower case without the trailing dot; the answer
// keeps the question's case. A name with the network's name as a domain
// ("web.mynet", "db.mynet") is found too. Forwarding asks each upstream
// in turn (UDP, again over TCP when the answer is truncated; a short
// timeout each) and relays the first answer that is not SERVFAIL or
// REFUSED, NXDOMAIN included; SERVFAIL when none answers. The upstreams
// are the host's (Options.Upstreams), unless the Lookup names the
// client's own (ClientUpstreams: a container's --dns, or none from
// internal networks).
//
// # Who is answered
//
// Docker's resolver listens inside each container's network namespace, so
// only its containers can reach it. This server listens on host addresses
// that anything routed to the host can reach, so it answers only clients
// the Lookup knows (LookupAddr(client, client) names them): other sources
// get REFUSED, and the server is never an open resolver.
//
// # Abuse
//
// Responses are never sent for responses; opcodes other than QUERY get
// NOTIMP; ANY, AXFR, IXFR, MAILA and MAILB are REFUSED; a message with
// other than one question, or with answer or authority records, gets
// FORMERR. UDP answers are cut to the client's EDNS size, at most 1232
// bytes (512 without EDNS), with TC set. At most 256 forwards run at
// once; beyond that queries get SERVFAIL.
package dns
