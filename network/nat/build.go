package nat

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// The named objects of the table.
const (
	setBridges   = "bridges"
	mapPorts     = "ports"
	mapHostPorts = "hostports"
)

var (
	keyPort     = nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)
	keyHostPort = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)
	dataTarget  = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)
)

// batch queues on c the messages that replace table t with r's ruleset:
// add t (so that the delete cannot fail), delete it, add it again and fill
// it. Nothing is sent until c.Flush.
func batch(c *nftables.Conn, t *nftables.Table, r Rules, bridgeFilter bool) error {
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)

	// Set IDs only need to be unique within a batch; giving them here
	// keeps the library's process-wide counter out of it.
	bridges := &nftables.Set{Table: t, ID: 1, Name: setBridges, KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian}
	ports := &nftables.Set{Table: t, ID: 2, Name: mapPorts, IsMap: true, Concatenation: true, KeyType: keyPort, DataType: dataTarget}
	hostPorts := &nftables.Set{Table: t, ID: 3, Name: mapHostPorts, IsMap: true, Concatenation: true, KeyType: keyHostPort, DataType: dataTarget}
	var names []nftables.SetElement
	for _, n := range r.Networks {
		names = append(names, nftables.SetElement{Key: ifname(n.Bridge)})
	}
	any, host := portElements(r.Ports)
	for _, s := range []struct {
		set  *nftables.Set
		elts []nftables.SetElement
	}{{bridges, names}, {ports, any}, {hostPorts, host}} {
		if err := c.AddSet(s.set, s.elts); err != nil {
			return err
		}
	}

	accept := nftables.ChainPolicyAccept
	chain := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority, typ nftables.ChainType) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: t, Hooknum: hook, Priority: prio, Type: typ, Policy: &accept})
	}
	add := func(ch *nftables.Chain, rules [][]expr.Any) {
		for _, e := range rules {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: e})
		}
	}
	add(chain("guard", nftables.ChainHookPrerouting, nftables.ChainPriorityRaw, nftables.ChainTypeFilter), guardRules(bridges))
	dnat := dnatRules(ports, hostPorts)
	add(chain("prerouting", nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest, nftables.ChainTypeNAT), dnat)
	add(chain("output", nftables.ChainHookOutput, nftables.ChainPriorityNATDest, nftables.ChainTypeNAT), dnat)
	add(chain("postrouting", nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource, nftables.ChainTypeNAT), snatRules(r.Networks, bridges))
	add(chain("forward", nftables.ChainHookForward, nftables.ChainPriorityFilter, nftables.ChainTypeFilter), forwardRules(r.Networks, bridges, bridgeFilter))
	return nil
}

// portElements makes the elements of the two port maps, in a stable
// order. A port given twice (same protocol, host address and port) would
// send the same packets two ways: the first one given wins, rather than
// the whole table failing for one stale record.
func portElements(ports []PortRule) (anyIP, hostIP []nftables.SetElement) {
	ports = slices.Clone(ports)
	for i := range ports {
		ports[i].HostIP = ports[i].HostIP.Unmap()
	}
	slices.SortStableFunc(ports, func(a, b PortRule) int {
		if c := a.HostIP.Compare(b.HostIP); c != 0 {
			return c
		}
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		return cmp.Compare(a.HostPort, b.HostPort)
	})
	for i, p := range ports {
		if i > 0 && p.HostIP == ports[i-1].HostIP && p.Proto == ports[i-1].Proto && p.HostPort == ports[i-1].HostPort {
			continue
		}
		ip := p.ContainerIP.Unmap().As4()
		val := binary.BigEndian.AppendUint16(ip[:], p.ContainerPort)
		val = append(val, 0, 0)
		key := []byte{protoNumbers[p.Proto], 0, 0, 0}
		key = binary.BigEndian.AppendUint16(key, p.HostPort)
		key = append(key, 0, 0)
		if !p.HostIP.IsValid() {
			anyIP = append(anyIP, nftables.SetElement{Key: key, Val: val})
			continue
		}
		h := p.HostIP.Unmap().As4()
		hostIP = append(hostIP, nftables.SetElement{Key: append(h[:], key...), Val: val})
	}
	return anyIP, hostIP
}

// dnatRules are the same in prerouting and output: a port published on
// one address first, then one published on every local address.
func dnatRules(ports, hostPorts *nftables.Set) [][]expr.Any {
	return [][]expr.Any{
		join(ipv4Only(), daddr(reg32a), protoPort(reg32b), dnatFrom(hostPorts)),
		join(ipv4Only(), daddrLocal(), protoPort(reg32a), dnatFrom(ports)),
	}
}

// snatRules: masquerade what leaves a non-internal network; loopback
// sources DNATed out of a bridge (the host's own connections to
// 127.0.0.1:PORT), which the container could not answer; and DNATed
// connections that go back out of the bridge they came from (a
// container to a published port of its own network, itself included),
// whose replies would otherwise skip the host and the reverse DNAT.
func snatRules(nets []NetRule, bridges *nftables.Set) [][]expr.Any {
	masq := []expr.Any{&expr.Masq{}}
	var out [][]expr.Any
	for _, n := range nets {
		if !n.Internal {
			out = append(out, join(ipv4Only(), saddrIn(n.Subnet), ifIs(expr.MetaKeyOIFNAME, n.Bridge, false), masq))
		}
	}
	out = append(out, join(ipv4Only(), ifIn(expr.MetaKeyOIFNAME, bridges), saddrIn(loopbackNet), masq))
	for _, n := range nets {
		out = append(out, join(ctDNAT(), ipv4Only(), ifIs(expr.MetaKeyOIFNAME, n.Bridge, true), saddrIn(n.Subnet), masq))
	}
	return out
}

// guardRules run before conntrack and routing.
//
// 127.0.0.0/8 destinations arriving on any interface but lo are dropped:
// route_localnet on a bridge (set so the host's 127.0.0.1 can be DNATed
// out of it) would let a container reach the host's loopback services
// through its gateway, and since DNAT happens before the routing
// decision, a neighbour sending to 127.0.0.1:PORT at the host's MAC
// address would reach a port published on 127.0.0.1 only.
//
// A packet arriving on a bridge whose source would not be routed back
// out of that bridge (`fib saddr . iif oif missing`, strict reverse
// path filtering whatever rp_filter says) is dropped: a container must
// not speak with the source address of a container of another network
// (the embedded DNS server knows its clients by their source address;
// an internal network's container could have its queries forwarded
// upstream in another's name).
//
// IPv6 router advertisements and redirects arriving on a bridge are
// dropped: the networks are IPv4 only, but the host's side of a bridge
// has IPv6 and would take a container (CAP_NET_RAW) for its default
// router (CVE-2020-13401).
func guardRules(bridges *nftables.Set) [][]expr.Any {
	drop := []expr.Any{verdict(expr.VerdictDrop)}
	return [][]expr.Any{
		join(ipv4Only(), ifIs(expr.MetaKeyIIFNAME, "lo", false), daddrIn(loopbackNet), drop),
		join(ipv4Only(), ifIn(expr.MetaKeyIIFNAME, bridges), saddrNotVia(), drop),
		join(ifIn(expr.MetaKeyIIFNAME, bridges), icmpv6Type(134), drop), // router advertisement
		join(ifIn(expr.MetaKeyIIFNAME, bridges), icmpv6Type(137), drop), // redirect
	}
}

// forwardRules: replies pass; internal networks are closed both ways;
// published ports are reachable from anywhere else, and nothing else
// from outside the bridges; otherwise no
// forwarding from one berth bridge to another, and, with ICC off and
// br_netfilter present, none within a bridge.
func forwardRules(nets []NetRule, bridges *nftables.Set, bridgeFilter bool) [][]expr.Any {
	drop := []expr.Any{verdict(expr.VerdictDrop)}
	out := [][]expr.Any{join(ctBits(expr.CtKeySTATE, expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), []expr.Any{verdict(expr.VerdictAccept)})}
	for _, n := range nets {
		if n.Internal {
			out = append(out,
				join(ifIs(expr.MetaKeyIIFNAME, n.Bridge, true), ifIs(expr.MetaKeyOIFNAME, n.Bridge, false), drop),
				join(ifIs(expr.MetaKeyOIFNAME, n.Bridge, true), ifIs(expr.MetaKeyIIFNAME, n.Bridge, false), drop))
		}
	}
	out = append(out, join(ctDNAT(), []expr.Any{verdict(expr.VerdictAccept)}))
	// From elsewhere (another host routing a bridge's subnet through
	// this one) only published ports, DNATed above, get in.
	out = append(out, join(ifNotIn(expr.MetaKeyIIFNAME, bridges), ifIn(expr.MetaKeyOIFNAME, bridges), drop))
	for _, n := range nets {
		out = append(out, join(ifIs(expr.MetaKeyIIFNAME, n.Bridge, true), ifIs(expr.MetaKeyOIFNAME, n.Bridge, false), ifIn(expr.MetaKeyOIFNAME, bridges), drop))
	}
	for _, n := range nets {
		if !n.ICC && bridgeFilter {
			out = append(out, join(ifIs(expr.MetaKeyIIFNAME, n.Bridge, true), ifIs(expr.MetaKeyOIFNAME, n.Bridge, true), drop))
		}
	}
	return out
}
