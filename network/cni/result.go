package cni

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/containerd/errdefs"
)

// Result is what ADD answered: the interfaces made, their addresses,
// routes and DNS settings (the spec's result, any version, in one form).
type Result struct {
	CNIVersion string
	Interfaces []Interface
	IPs        []IP
	Routes     []Route
	DNS        DNS
}

// Interface is one interface a plugin made or configured.
type Interface struct {
	Name    string
	MAC     string
	Sandbox string // the netns path for an interface in the container; empty: on the host
}

// IP is one address.
type IP struct {
	Address netip.Prefix // the address with its subnet's length
	Gateway netip.Addr
	// Interface is the index in Interfaces of the interface holding the
	// address; -1: not said.
	Interface int
}

// Route is one route in the container.
type Route struct {
	Dst netip.Prefix
	GW  netip.Addr // zero: the default gateway of the interface
}

// DNS is the DNS configuration a plugin asked for.
type DNS struct {
	Nameservers []string
	Domain      string
	Search      []string
	Options     []string
}

// The spec's result documents: 0.3.0 on, and 0.1.0/0.2.0.
type (
	wireResult struct {
		CNIVersion string          `json:"cniVersion"`
		Interfaces []wireInterface `json:"interfaces"`
		IPs        []wireIP        `json:"ips"`
		Routes     []wireRoute     `json:"routes"`
		DNS        DNS             `json:"dns"`
		IP4        *wireOldIP      `json:"ip4"`
		IP6        *wireOldIP      `json:"ip6"`
	}
	wireInterface struct {
		Name    string `json:"name"`
		MAC     string `json:"mac"`
		Sandbox string `json:"sandbox"`
	}
	wireIP struct {
		Address   string `json:"address"`
		Gateway   string `json:"gateway"`
		Interface *int   `json:"interface"`
	}
	wireRoute struct {
		Dst string `json:"dst"`
		GW  string `json:"gw"`
	}
	wireOldIP struct {
		IP      string      `json:"ip"`
		Gateway string      `json:"gateway"`
		Routes  []wireRoute `json:"routes"`
	}
)

// ParseResult decodes a plugin's result, of any spec version.
func ParseResult(data []byte) (*Result, error) {
	if len(data) > maxConfig {
		return nil, fmt.Errorf("parse cni result: larger than %d bytes: %w", maxConfig, errdefs.ErrInvalidArgument)
	}
	var w wireResult
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("parse cni result: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	r := &Result{CNIVersion: w.CNIVersion, DNS: w.DNS}
	for _, i := range w.Interfaces {
		r.Interfaces = append(r.Interfaces, Interface(i))
	}
	for _, ip := range w.IPs {
		idx := -1
		if ip.Interface != nil {
			idx = *ip.Interface
			if idx < 0 || idx >= len(r.Interfaces) {
				return nil, resultErr("ip %s names interface %d of %d", ip.Address, idx, len(r.Interfaces))
			}
		}
		a, err := parseIP(ip.Address, ip.Gateway)
		if err != nil {
			return nil, err
		}
		a.Interface = idx
		r.IPs = append(r.IPs, a)
	}
	for _, old := range []*wireOldIP{w.IP4, w.IP6} {
		if old == nil {
			continue
		}
		a, err := parseIP(old.IP, old.Gateway)
		if err != nil {
			return nil, err
		}
		a.Interface = -1
		r.IPs = append(r.IPs, a)
		w.Routes = append(w.Routes, old.Routes...)
	}
	for _, rt := range w.Routes {
		dst, err := netip.ParsePrefix(rt.Dst)
		if err != nil {
			return nil, resultErr("route dst %q", rt.Dst)
		}
		gw, err := optAddr(rt.GW)
		if err != nil {
			return nil, resultErr("route gw %q", rt.GW)
		}
		r.Routes = append(r.Routes, Route{Dst: dst, GW: gw})
	}
	return r, nil
}

func parseIP(addr, gw string) (IP, error) {
	p, err := netip.ParsePrefix(addr)
	if err != nil {
		return IP{}, resultErr("address %q", addr)
	}
	g, err := optAddr(gw)
	if err != nil {
		return IP{}, resultErr("gateway %q", gw)
	}
	return IP{Address: p, Gateway: g}, nil
}

func optAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	return netip.ParseAddr(s)
}

func resultErr(format string, a ...any) error {
	return fmt.Errorf("parse cni result: "+format+": %w", append(a, errdefs.ErrInvalidArgument)...)
}

// Addresses are the addresses on the container's interface ifname (or,
// when the result does not say which interface holds an address, every
// such address).
func (r *Result) Addresses(ifname string) []IP {
	var out []IP
	for _, ip := range r.IPs {
		if ip.Interface < 0 {
			out = append(out, ip)
			continue
		}
		if i := r.Interfaces[ip.Interface]; i.Sandbox != "" && i.Name == ifname {
			out = append(out, ip)
		}
	}
	return out
}

// Nameservers are the DNS servers that are addresses.
func (r *Result) Nameservers() []netip.Addr {
	var out []netip.Addr
	for _, s := range r.DNS.Nameservers {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// MAC is the container interface ifname's hardware address, if the result
// says.
func (r *Result) MAC(ifname string) string {
	for _, i := range r.Interfaces {
		if i.Sandbox != "" && i.Name == ifname {
			return i.MAC
		}
	}
	return ""
}
