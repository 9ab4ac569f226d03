package registry

import (
	"net"
	"net/netip"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is go-containerregistry's host for Docker Hub.
const dockerHub = name.DefaultRegistry

// hostPolicy decides which hosts may be reached over plain HTTP (and TLS
// without verification): the configured insecure hosts and networks, and
// loopback. It is filled in by New and read-only afterwards.
type hostPolicy struct {
	hosts map[string]bool // "host" (any port) or "host:port"
	nets  []netip.Prefix
}

func newHostPolicy(entries []string) *hostPolicy {
	p := &hostPolicy{hosts: map[string]bool{}}
	for _, e := range entries {
		p.allow(e)
	}
	return p
}

// allow adds a host, host:port or CIDR entry; a URL's scheme and path are
// dropped. Entries that are none of these are ignored.
func (p *hostPolicy) allow(entry string) {
	e := strings.TrimSpace(entry)
	if pfx, err := netip.ParsePrefix(e); err == nil {
		p.nets = append(p.nets, pfx.Masked())
		return
	}
	e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
	e, _, _ = strings.Cut(e, "/")
	if e == "" {
		return
	}
	p.hosts[strings.ToLower(canonicalHost(e))] = true
}

// plainHTTP reports whether host ("host" or "host:port") may be reached
// without verified TLS.
func (p *hostPolicy) plainHTTP(hostport string) bool {
	hostport = strings.ToLower(hostport)
	hostname := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostname = h
	}
	hostname = strings.Trim(hostname, "[]")
	if hostname == "localhost" || strings.HasSuffix(hostname, ".localhost") {
		return true
	}
	if p.hosts[hostport] || p.hosts[hostname] {
		return true
	}
	ip, err := netip.ParseAddr(hostname)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return true
	}
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// canonicalHost maps Docker Hub's names to go-containerregistry's host.
func canonicalHost(host string) string {
	switch strings.ToLower(host) {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return dockerHub
	}
	return host
}

// mirrorHost returns the host of a mirror given as "host[:port]" or a
// URL, and whether the URL asked for plain HTTP.
func mirrorHost(m string) (host string, plain bool) {
	m = strings.TrimSpace(m)
	plain = strings.HasPrefix(m, "http://")
	m = strings.TrimPrefix(strings.TrimPrefix(m, "http://"), "https://")
	host, _, _ = strings.Cut(m, "/")
	return host, plain
}

// endpoint is a host serving a repository: a mirror or the registry.
type endpoint struct {
	host   string
	repo   string // repository path, e.g. "library/busybox"
	mirror bool
}

func (e endpoint) String() string { return e.host + "/" + e.repo }

// endpoints returns where to read repo from: its registry's mirrors in
// order, then the registry.
func (c *Client) endpoints(repo name.Repository) []endpoint {
	host := repo.RegistryStr()
	var out []endpoint
	for _, m := range c.mirrors[canonicalHost(host)] {
		out = append(out, endpoint{host: m, repo: repo.RepositoryStr(), mirror: true})
	}
	return append(out, endpoint{host: host, repo: repo.RepositoryStr()})
}

// scheme returns the URL scheme to start with for host; the authenticated
// transport switches to what its ping found.
func (c *Client) scheme(host string) string {
	if c.hosts.plainHTTP(host) {
		return "http"
	}
	return "https"
}

func (c *Client) url(e endpoint, kind, ref string) string {
	return c.scheme(e.host) + "://" + e.host + "/v2/" + e.repo + "/" + kind + "/" + ref
}
