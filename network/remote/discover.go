package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
)

// Default places of plugins, as Docker's.
var (
	DefaultSocketDirs = []string{"/run/docker/plugins"}
	DefaultSpecDirs   = []string{"/etc/docker/plugins", "/usr/lib/docker/plugins"}
)

// validName is what a plugin name may be: it becomes a file name.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// Addr is where a plugin is served.
type Addr struct {
	Network string // "unix" or "tcp"
	Address string // a socket path or host:port
	TLS     *tls.Config
}

// spec is a .json spec file.
type spec struct {
	Name      string
	Addr      string
	TLSConfig *struct {
		InsecureSkipVerify bool
		CAFile             string
		CertFile           string
		KeyFile            string
	}
}

// find locates plugin name: a socket first, then spec files.
func (p *Plugins) find(name string) (Addr, error) {
	if !validName.MatchString(name) {
		return Addr{}, fmt.Errorf("remote network driver %q: invalid plugin name: %w", name, errdefs.ErrInvalidArgument)
	}
	for _, dir := range p.o.SocketDirs {
		for _, path := range []string{filepath.Join(dir, name+".sock"), filepath.Join(dir, name, name+".sock")} {
			if st, err := os.Stat(path); err == nil && st.Mode()&fs.ModeSocket != 0 {
				return Addr{Network: "unix", Address: path}, nil
			}
		}
	}
	for _, dir := range p.o.SpecDirs {
		for _, base := range []string{filepath.Join(dir, name), filepath.Join(dir, name, name)} {
			for _, ext := range []string{".spec", ".json"} {
				data, err := readSpec(base + ext)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return Addr{}, fmt.Errorf("remote network driver %s: %w", name, err)
				}
				a, err := ParseSpec(data, ext == ".json")
				if err != nil {
					return Addr{}, fmt.Errorf("remote network driver %s: %s: %w", name, base+ext, err)
				}
				return a, nil
			}
		}
	}
	return Addr{}, fmt.Errorf("plugin %q not found: %w", name, errdefs.ErrNotFound)
}

func readSpec(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 64<<10)
	n, err := f.Read(b)
	if err != nil && n == 0 {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b[:n], nil
}

// ParseSpec decodes a spec file: a URL (.spec) or a JSON document
// (.json). TLS files named by a JSON spec are read.
func ParseSpec(data []byte, isJSON bool) (Addr, error) {
	s := spec{Addr: strings.TrimSpace(string(data))}
	if isJSON {
		if err := json.Unmarshal(data, &s); err != nil {
			return Addr{}, fmt.Errorf("parse plugin spec: %w: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	u, err := url.Parse(s.Addr)
	if err != nil || s.Addr == "" {
		return Addr{}, fmt.Errorf("parse plugin spec: address %q: %w", s.Addr, errdefs.ErrInvalidArgument)
	}
	var a Addr
	switch u.Scheme {
	case "unix":
		a = Addr{Network: "unix", Address: u.Path}
		if !filepath.IsAbs(u.Path) {
			return Addr{}, fmt.Errorf("parse plugin spec: socket %q is not an absolute path: %w", u.Path, errdefs.ErrInvalidArgument)
		}
	case "tcp", "http", "https":
		if u.Host == "" {
			return Addr{}, fmt.Errorf("parse plugin spec: address %q has no host: %w", s.Addr, errdefs.ErrInvalidArgument)
		}
		a = Addr{Network: "tcp", Address: u.Host}
	default:
		return Addr{}, fmt.Errorf("parse plugin spec: address %q: scheme %q is not unix, tcp or https: %w", s.Addr, u.Scheme, errdefs.ErrInvalidArgument)
	}
	if s.TLSConfig != nil || u.Scheme == "https" {
		if a.TLS, err = tlsConfig(s); err != nil {
			return Addr{}, err
		}
	}
	return a, nil
}

func tlsConfig(s spec) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig == nil {
		return c, nil
	}
	c.InsecureSkipVerify = s.TLSConfig.InsecureSkipVerify
	if s.TLSConfig.CAFile != "" {
		pem, err := os.ReadFile(s.TLSConfig.CAFile)
		if err != nil {
			return nil, fmt.Errorf("plugin spec: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("plugin spec: no certificate in %s: %w", s.TLSConfig.CAFile, errdefs.ErrInvalidArgument)
		}
	}
	if s.TLSConfig.CertFile != "" || s.TLSConfig.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLSConfig.CertFile, s.TLSConfig.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("plugin spec: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// httpClient talks to a plugin at a.
func httpClient(a Addr) *http.Client {
	d := &net.Dialer{}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, a.Network, a.Address)
		},
		TLSClientConfig:   a.TLS,
		DisableKeepAlives: a.Network == "unix",
	}
	return &http.Client{Transport: tr}
}

// baseURL is the URL calls are made on (the host is not used to dial).
func (a Addr) baseURL() string {
	if a.TLS != nil {
		return "https://" + a.Address
	}
	if a.Network == "tcp" {
		return "http://" + a.Address
	}
	return "http://plugin"
}

// Names are the plugins the directories name now (sockets and spec
// files), for a daemon to offer as drivers.
func (p *Plugins) Names() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if validName.MatchString(n) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, dir := range p.o.SocketDirs {
		des, _ := os.ReadDir(dir)
		for _, d := range des {
			if n, ok := strings.CutSuffix(d.Name(), ".sock"); ok {
				add(n)
			} else if d.IsDir() {
				if st, err := os.Stat(filepath.Join(dir, d.Name(), d.Name()+".sock")); err == nil && st.Mode()&fs.ModeSocket != 0 {
					add(d.Name())
				}
			}
		}
	}
	for _, dir := range p.o.SpecDirs {
		des, _ := os.ReadDir(dir)
		for _, d := range des {
			n := d.Name()
			if d.IsDir() {
				for _, ext := range []string{".spec", ".json"} {
					if _, err := os.Stat(filepath.Join(dir, n, n+ext)); err == nil {
						add(n)
					}
				}
				continue
			}
			if b, ok := strings.CutSuffix(n, ".spec"); ok {
				add(b)
			} else if b, ok := strings.CutSuffix(n, ".json"); ok {
				add(b)
			}
		}
	}
	return out
}
