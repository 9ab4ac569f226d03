package dns

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
)

// resolvFile is what matters of a resolv.conf (resolv.conf(5)).
type resolvFile struct {
	nameservers []string
	search      []string // the last search or domain line wins
	options     []string
	rest        []string // other directives (sortlist, lookup…), kept
}

func parseResolvConf(data []byte) resolvFile {
	var f resolvFile
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0][0] == '#' || fields[0][0] == ';' {
			continue
		}
		switch key, args := fields[0], fields[1:]; key {
		case "nameserver":
			if len(args) > 0 {
				f.nameservers = append(f.nameservers, args[0])
			}
		case "search", "domain":
			f.search = args
		case "options":
			f.options = append(f.options, args...)
		default:
			f.rest = append(f.rest, strings.Join(fields, " "))
		}
	}
	return f
}

// ResolvConf is /etc/resolv.conf for a container on a user network, as
// Docker writes it around its embedded resolver: the servers (the
// network's gateway, where this package listens) are the only
// nameservers; the search domains and options are the host's (host is
// its resolv.conf) unless search (--dns-search; "." alone: none) or
// options (--dns-option) are given; "ndots:0" is added when no option
// sets ndots, so that a container name is asked as it is first.
func ResolvConf(host []byte, servers []netip.Addr, search, options []string) []byte {
	f := parseResolvConf(host)
	if len(search) > 0 {
		f.search = search
		if len(search) == 1 && search[0] == "." {
			f.search = nil
		}
	}
	if len(options) > 0 {
		f.options = options
	}
	if !slices.ContainsFunc(f.options, func(o string) bool { return strings.HasPrefix(o, "ndots:") }) {
		f.options = append(slices.Clip(f.options), "ndots:0")
	}
	var b bytes.Buffer
	for _, l := range f.rest {
		b.WriteString(l + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s.String() + "\n")
	}
	if len(f.search) > 0 {
		b.WriteString("search " + strings.Join(f.search, " ") + "\n")
	}
	b.WriteString("options " + strings.Join(f.options, " ") + "\n")
	return b.Bytes()
}

// Upstreams are the resolvers the server forwards to, from the host's
// resolv.conf (host) and the list of upstream servers systemd-resolved
// writes (/run/systemd/resolve/resolv.conf; nil when absent): the host's
// nameservers that are not loopback addresses; when all of them are,
// systemd-resolved's (so containers see the same servers as with the
// default bridge); when none is left, the loopback ones after all, which
// berthd reaches since the server runs in the host's network namespace.
// Port 53 each.
func Upstreams(host, systemd []byte) []netip.AddrPort {
	hostServers := nameservers(parseResolvConf(host))
	if out := withPort(hostServers, false); len(out) > 0 {
		return out
	}
	if out := withPort(nameservers(parseResolvConf(systemd)), false); len(out) > 0 {
		return out
	}
	return withPort(hostServers, true)
}

// withPort is addrs with port 53, loopback ones only when loopback is
// set.
func withPort(addrs []netip.Addr, loopback bool) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range addrs {
		if loopback || !a.IsLoopback() {
			out = append(out, netip.AddrPortFrom(a, Port))
		}
	}
	return out
}

// nameservers are f's nameserver addresses that parse (zones kept:
// "fe80::1%eth0").
func nameservers(f resolvFile) []netip.Addr {
	var out []netip.Addr
	for _, s := range f.nameservers {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}
