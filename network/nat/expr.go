package nat

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Registers: reg1 is the first 16-byte register; concatenations fill it
// 4 bytes per field (reg 8 + n in the 32-bit numbering, where reg1 == 8).
const (
	reg1   = 1
	reg32a = 8 // first 32-bit word of reg1
	reg32b = 9 // second
)

// The small expression sequences the ruleset is made of.

func ipv4Only() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.NFPROTO_IPV4}},
	}
}

func ifname(name string) []byte {
	b := make([]byte, ifNameSize)
	copy(b, name)
	return b
}

func ifIs(key expr.MetaKey, name string, eq bool) []expr.Any {
	op := expr.CmpOpEq
	if !eq {
		op = expr.CmpOpNeq
	}
	return []expr.Any{
		&expr.Meta{Key: key, Register: reg1},
		&expr.Cmp{Op: op, Register: reg1, Data: ifname(name)},
	}
}

func ifIn(key expr.MetaKey, set *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: reg1},
		&expr.Lookup{SourceRegister: reg1, SetName: set.Name, SetID: set.ID},
	}
}

// icmpv6Type matches an ICMPv6 message of type typ (`icmpv6 type typ`).
func icmpv6Type(typ byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.NFPROTO_IPV6}},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.IPPROTO_ICMPV6}},
		&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{typ}},
	}
}

// ifNotIn is ifIn inverted.
func ifNotIn(key expr.MetaKey, set *nftables.Set) []expr.Any {
	e := ifIn(key, set)
	e[1].(*expr.Lookup).Invert = true
	return e
}

// saddrNotVia is `fib saddr . iif oif missing`: the source address
// would not be routed out of the interface the packet came in on.
func saddrNotVia() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: reg1, FlagSADDR: true, FlagIIF: true, ResultOIF: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{0, 0, 0, 0}},
	}
}

// saddrIn matches an IPv4 source inside p (after ipv4Only).
func saddrIn(p netip.Prefix) []expr.Any { return addrIn(12, p) }

// daddrIn matches an IPv4 destination inside p (after ipv4Only).
func daddrIn(p netip.Prefix) []expr.Any { return addrIn(16, p) }

// addrIn matches the IPv4 address at offset of the header inside p.
func addrIn(offset uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	a := p.Addr().As4()
	mask := make([]byte, 4)
	binary.BigEndian.PutUint32(mask, ^uint32(0)<<(32-p.Bits()))
	if p.Bits() == 0 {
		mask = []byte{0, 0, 0, 0}
	}
	return []expr.Any{
		&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: a[:]},
	}
}

// ctBits matches a conntrack key (state or status) with any of bits set.
func ctBits(key expr.CtKey, bits uint32) []expr.Any {
	mask := binary.NativeEndian.AppendUint32(nil, bits)
	return []expr.Any{
		&expr.Ct{Key: key, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: []byte{0, 0, 0, 0}},
	}
}

// ctDNAT matches connections whose destination was translated
// (IPS_DST_NAT, `ct status dnat`).
func ctDNAT() []expr.Any { return ctBits(expr.CtKeySTATUS, 1<<5) }

// daddrLocal is `fib daddr type local`.
func daddrLocal() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: reg1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binary.NativeEndian.AppendUint32(nil, unix.RTN_LOCAL)},
	}
}

// daddr loads the IPv4 destination into 32-bit register r.
func daddr(r uint32) []expr.Any {
	return []expr.Any{&expr.Payload{DestRegister: r, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4}}
}

// protoPort loads `meta l4proto . th dport` into the 32-bit registers
// from first on (the transport header's destination port is at offset 2 for
// TCP, UDP and SCTP alike).
func protoPort(first uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: first},
		&expr.Payload{DestRegister: first + 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
	}
}

// dnatFrom looks the loaded key up in map m and DNATs to the address and
// port found (`dnat ip to KEY map @m`).
func dnatFrom(m *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Lookup{SourceRegister: reg1, DestRegister: reg1, IsDestRegSet: true, SetName: m.Name, SetID: m.ID},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1, RegProtoMin: reg32b, Specified: true},
	}
}

func verdict(k expr.VerdictKind) expr.Any { return &expr.Verdict{Kind: k} }

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
