package containers

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/internal/fsutil"
)

// Host files resolv.conf is made from. When the host's names only
// loopback resolvers (systemd-resolved's stub at 127.0.0.53), which a
// container in its own network namespace cannot reach, the upstream
// servers systemd-resolved writes are used instead.
const (
	hostResolvConf     = "/etc/resolv.conf"
	upstreamResolvConf = "/run/systemd/resolve/resolv.conf"
	hostHosts          = "/etc/hosts"
)

// maxHostFile bounds what is read of the host's resolv.conf and hosts.
const maxHostFile = 1 << 20

// netFiles are the files a container gets at /etc/hostname, /etc/hosts
// and /etc/resolv.conf.
type netFiles struct {
	Hostname, Hosts, ResolvConf string
}

func (s *Service) netFilePaths(id string) netFiles {
	d := s.bundleDir(id)
	return netFiles{Hostname: filepath.Join(d, "hostname"), Hosts: filepath.Join(d, "hosts"), ResolvConf: filepath.Join(d, "resolv.conf")}
}

// writeNetFiles writes a container's hostname, hosts and resolv.conf into
// its bundle directory.
func writeNetFiles(f netFiles, cfg *container.Config, hc *container.HostConfig) error {
	host := hc.NetworkMode.IsHost()
	hosts, err := hostsFile(host, hc.ExtraHosts, readHostFile(hostHosts))
	if err != nil {
		return err
	}
	resolv := resolvConf(host, readHostFile(hostResolvConf), readHostFile(upstreamResolvConf), hc)
	for _, w := range []struct {
		path string
		data []byte
	}{{f.Hostname, []byte(cfg.Hostname + "\n")}, {f.Hosts, hosts}, {f.ResolvConf, resolv}} {
		// Not synced: start makes them again when a crash lost them.
		if err := fsutil.ReplaceFile(w.path, w.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	return nil
}

// ensureNetFiles makes a container's hostname, hosts and resolv.conf
// again when one is missing or empty, as a crash soon after create can
// leave them (they are written without a sync).
func (s *Service) ensureNetFiles(id string, cfg *container.Config, hc *container.HostConfig) error {
	f := s.netFilePaths(id)
	for _, p := range []string{f.Hostname, f.Hosts, f.ResolvConf} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			return writeNetFiles(f, cfg, hc)
		}
	}
	return nil
}

// readHostFile reads a small host file; nil when it is missing or odd.
func readHostFile(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, maxHostFile)
	n, _ := f.Read(buf)
	return buf[:n]
}

// hostsFile is /etc/hosts: the host's with --network host, else the
// loopback names; then the --add-host entries ("name:ip").
func hostsFile(hostNetwork bool, extra []string, hostData []byte) ([]byte, error) {
	var b bytes.Buffer
	if hostNetwork && len(hostData) > 0 {
		b.Write(hostData)
		if !bytes.HasSuffix(hostData, []byte("\n")) {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
			"fe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	}
	for _, e := range extra {
		name, ip, ok := strings.Cut(e, ":")
		if !ok {
			name, ip, ok = strings.Cut(e, "=")
		}
		ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
		if !ok || name == "" || strings.ContainsAny(name, " \t\n") {
			return nil, fmt.Errorf("invalid extra host %q: want NAME:IP: %w", e, errdefs.ErrInvalidArgument)
		}
		if ip == "host-gateway" {
			return nil, fmt.Errorf("extra host %q: host-gateway is the default bridge's gateway, and berthd runs without a default bridge: %w", e, errdefs.ErrNotImplemented)
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("invalid IP address in add-host: %q: %w", ip, errdefs.ErrInvalidArgument)
		}
		fmt.Fprintf(&b, "%s\t%s\n", addr, name)
	}
	return b.Bytes(), nil
}

// resolvConf is /etc/resolv.conf: with --network host the host's as it
// is; else the host's without loopback resolvers (systemd-resolved's
// upstream ones stand in when every resolver was a loopback one, and with
// none left there is no nameserver line). --dns, --dns-search and
// --dns-option replace their kind of line.
func resolvConf(hostNetwork bool, hostData, upstreamData []byte, hc *container.HostConfig) []byte {
	if hostNetwork && len(hc.DNS) == 0 && len(hc.DNSSearch) == 0 && len(hc.DNSOptions) == 0 {
		return hostData
	}
	servers, search, options, other := parseResolv(hostData)
	if !hostNetwork {
		kept := nonLoopback(servers)
		if len(kept) == 0 && len(servers) > 0 {
			up, _, _, _ := parseResolv(upstreamData)
			kept = nonLoopback(up)
		}
		servers = kept
	}
	if len(hc.DNS) > 0 {
		servers = nil
		for _, a := range hc.DNS {
			servers = append(servers, a.String())
		}
	}
	if len(hc.DNSSearch) > 0 {
		search = hc.DNSSearch
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(hc.DNSOptions) > 0 {
		options = hc.DNSOptions
	}
	var b bytes.Buffer
	for _, l := range other {
		b.WriteString(l + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.Bytes()
}

// parseResolv splits resolv.conf into nameservers, search domains,
// options and the other lines (comments are dropped).
func parseResolv(data []byte) (servers, search, options, other []string) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				servers = append(servers, f[1])
			}
		case "search", "domain":
			search = f[1:]
		case "options":
			options = append(options, f[1:]...)
		default:
			other = append(other, strings.Join(f, " "))
		}
	}
	return servers, search, options, other
}

// nonLoopback keeps the resolvers a container in its own network
// namespace can reach.
func nonLoopback(servers []string) []string {
	var out []string
	for _, s := range servers {
		host, _, _ := strings.Cut(s, "%") // fe80::1%eth0
		if a, err := netip.ParseAddr(host); err == nil && !a.IsLoopback() {
			out = append(out, s)
		}
	}
	return out
}

// writeFileAtomic writes a file atomically, naming it in errors.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := fsutil.WriteFileAtomic(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
