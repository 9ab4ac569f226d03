package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/spf13/pflag"
)

// AddressPool is one of daemon.json's "default-address-pools": user
// networks without a subnet get a /Size out of Base.
type AddressPool struct {
	Base string `json:"base"`
	Size int    `json:"size"`
}

// Pool is an address pool checked and parsed.
type Pool struct {
	Base netip.Prefix
	Size int
}

// networkFlags registers the network service's flags, with dockerd's
// names.
func (f *Flags) networkFlags(fs *pflag.FlagSet, d *Config) {
	fs.StringVarP(&f.v.Bridge, "bridge", "b", "", `the default bridge network's device ("none": no default bridge network)`)
	fs.StringVar(&f.v.BIP, "bip", "", "the default bridge's address and prefix length (e.g. 172.17.0.1/16)")
	fs.IntVar(&f.v.MTU, "mtu", 0, "MTU of the containers' network interfaces (default: the host's)")
	fs.BoolVar(&f.v.IPTables, "iptables", d.IPTables, "write berth's nftables rules (NAT, published ports, isolation)")
	fs.BoolVar(&f.v.IPForward, "ip-forward", d.IPForward, "enable IPv4 forwarding")
	fs.BoolVar(&f.v.ICC, "icc", d.ICC, "let containers on the default bridge reach each other")
	fs.StringArrayVar(&f.raw.pools, "default-address-pool", nil, "pool of subnets for new networks, base=CIDR,size=BITS")
}

// applyNetwork copies the network flag name over dst; false when name is
// not one of them.
func (f *Flags) applyNetwork(name string, dst *Config) (bool, error) {
	v := &f.v
	switch name {
	case "bridge":
		dst.Bridge = v.Bridge
	case "bip":
		dst.BIP = v.BIP
	case "mtu":
		dst.MTU = v.MTU
	case "iptables":
		dst.IPTables = v.IPTables
	case "ip-forward":
		dst.IPForward = v.IPForward
	case "icc":
		dst.ICC = v.ICC
	case "default-address-pool":
		dst.DefaultAddressPools = nil
		for _, s := range f.raw.pools {
			p, err := parsePoolFlag(s)
			if err != nil {
				return true, fmt.Errorf("--default-address-pool: %w", err)
			}
			dst.DefaultAddressPools = append(dst.DefaultAddressPools, p)
		}
	default:
		return false, nil
	}
	return true, nil
}

// parsePoolFlag reads "base=10.10.0.0/16,size=24".
func parsePoolFlag(s string) (AddressPool, error) {
	var p AddressPool
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(k) {
		case "base":
			p.Base = v
		case "size":
			n, err := strconv.Atoi(v)
			if err != nil {
				return p, fmt.Errorf("%q: size %q is not a number: %w", s, v, errdefs.ErrInvalidArgument)
			}
			p.Size = n
		default:
			return p, fmt.Errorf("%q: unknown field %q: want base=CIDR,size=BITS: %w", s, k, errdefs.ErrInvalidArgument)
		}
	}
	return p, nil
}

// BridgeDisabled reports whether there is no default bridge network
// (--bridge=none).
func (c *Config) BridgeDisabled() bool { return c.Bridge == "none" }

// DefaultBridgeAddr is --bip parsed: the bridge's address with the
// subnet's length; zero when not set.
func (c *Config) DefaultBridgeAddr() (netip.Prefix, error) {
	if c.BIP == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(c.BIP)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return netip.Prefix{}, fmt.Errorf("bip %q: want an IPv4 address with a prefix length of at most 30, as 172.17.0.1/16: %w", c.BIP, errdefs.ErrInvalidArgument)
	}
	if p.Addr() == p.Masked().Addr() {
		return netip.Prefix{}, fmt.Errorf("bip %q: the address is the network's own; give the bridge's address, as 172.17.0.1/16: %w", c.BIP, errdefs.ErrInvalidArgument)
	}
	return p, nil
}

// AddressPools are default-address-pools parsed.
func (c *Config) AddressPools() ([]Pool, error) {
	var out []Pool
	for _, p := range c.DefaultAddressPools {
		base, err := netip.ParsePrefix(p.Base)
		if err != nil || !base.Addr().Is4() {
			return nil, fmt.Errorf("default-address-pools: base %q: want an IPv4 CIDR: %w", p.Base, errdefs.ErrInvalidArgument)
		}
		if p.Size < base.Bits() || p.Size > 30 {
			return nil, fmt.Errorf("default-address-pools: base %s: size %d must be between %d and 30: %w", p.Base, p.Size, base.Bits(), errdefs.ErrInvalidArgument)
		}
		out = append(out, Pool{Base: base.Masked(), Size: p.Size})
	}
	return out, nil
}

// validateNetwork checks the network keys.
func (c *Config) validateNetwork() error {
	if _, err := c.DefaultBridgeAddr(); err != nil {
		return err
	}
	if c.BIP != "" && c.BridgeDisabled() {
		return fmt.Errorf("bip and bridge=none are exclusive: %w", errdefs.ErrInvalidArgument)
	}
	if c.Bridge != "" && !c.BridgeDisabled() && !validIfName(c.Bridge) {
		return fmt.Errorf("bridge %q: not a valid interface name (1 to 15 characters, no '/', ':' or blanks): %w", c.Bridge, errdefs.ErrInvalidArgument)
	}
	if c.MTU < 0 || (c.MTU > 0 && c.MTU < 68) || c.MTU > 65535 {
		return fmt.Errorf("mtu %d: want 68 to 65535 (0: the host's): %w", c.MTU, errdefs.ErrInvalidArgument)
	}
	_, err := c.AddressPools()
	return err
}

// validIfName reports whether s can name a network interface
// (IFNAMSIZ, dev_valid_name).
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsAny(s, "/: \t\n")
}
