// Package nat keeps berth's own nftables table: the NAT, port forwarding
// and isolation rules of berth's bridge networks, made from the desired
// state (Rules) and replaced whole, atomically, by Apply.
//
// # Why one inet table
//
// The table is of family inet (IPv4 and IPv6 in one table, NAT in inet
// chains since Linux 5.2): one table holds the filter chain and the NAT
// chains, so deleting it removes everything berth ever added and nothing
// else, and IPv6 rules can join later without a second table. Only IPv4
// is matched today, but for the guard against IPv6 router advertisements
// on bridges: each rule that reads an IP header checks meta nfproto
// first, as the nft tool does in inet tables.
//
// # The ruleset
//
//	table inet NAME {
//	  set bridges  { type ifname }                  every berth bridge
//	  map ports    { type inet_proto . inet_service : ipv4_addr . inet_service }
//	  map hostports{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
//	  chain guard       (filter, raw)   drop 127.0.0.0/8 destinations coming
//	                                    in on any interface but lo
//	                                    (route_localnet and DNAT before
//	                                    routing would let containers reach
//	                                    the host's loopback services and
//	                                    neighbours a port published on
//	                                    127.0.0.1); drop what comes in on
//	                                    a bridge with a source not routed
//	                                    back out of it (spoofing); drop
//	                                    IPv6 router advertisements and
//	                                    redirects coming in on a bridge
//	  chain prerouting  (nat, dstnat)   DNAT of published ports, from other
//	                                    hosts and from containers (hairpin)
//	  chain output      (nat, dstnat)   the same for the host's own
//	                                    connections, 127.0.0.1 included
//	  chain postrouting (nat, srcnat)   masquerade out of non-internal
//	                                    networks; 127.0.0.0/8 sources out of
//	                                    a bridge; DNATed connections out of
//	                                    their own network's bridge (hairpin)
//	  chain forward     (filter)        established/related accepted;
//	                                    internal networks closed; DNATed
//	                                    connections accepted; nothing else
//	                                    into a bridge from a non-bridge
//	                                    interface; no forwarding
//	                                    between two berth bridges; with ICC
//	                                    off, none within one bridge
//	}
//
// A published port costs one map element, not a rule: "ports" holds the
// ports published on every host address (matched when fib says the
// destination is local), "hostports" those published on one HostIP. The
// number of rules grows with the number of networks only.
//
// # Atomicity
//
// Apply sends one netlink batch: add the table (a no-op when present),
// delete it, add it again with every set, chain, rule and element. The
// kernel commits the batch whole or not at all, so packets see either the
// old ruleset or the new one. Other tables are never touched.
//
// # Sysctls
//
// After the batch, Apply sets net.ipv4.ip_forward=1 when there is a
// network (unless Rules.KeepIPForward), and
// net.ipv4.conf.BRIDGE.route_localnet=1 on each bridge with
// a published port (so 127.0.0.1 may be DNATed out of it). ICC off needs
// br_netfilter (bridged frames pass the inet forward hook only with it):
// when /proc/sys/net/bridge is missing those drop rules are left out and
// BridgeFilter reports false; when present, bridge-nf-call-iptables is set
// to 1.
//
// # Network namespaces
//
// A Table works in the network namespace of the thread that called Open;
// Apply and Delete may be called from any goroutine and do their work on a
// thread in that namespace.
package nat
