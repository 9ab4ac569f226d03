package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Host is one address berthd serves the API on.
type Host struct {
	Proto string // "unix" or "tcp"
	Addr  string // a socket path, or host:port
}

func (h Host) String() string {
	if h.Proto == "unix" {
		return "unix://" + h.Addr
	}
	return h.Proto + "://" + h.Addr
}

// ParseHost parses an -H value as dockerd does: unix://PATH (empty PATH:
// the default socket), tcp://HOST:PORT (no port: 2376, the TLS port), or
// a bare path.
func ParseHost(s string) (Host, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return ParseHost(DefaultHost)
	case strings.HasPrefix(s, "unix://"):
		p := strings.TrimPrefix(s, "unix://")
		if p == "" {
			return ParseHost(DefaultHost)
		}
		if !filepath.IsAbs(p) {
			return Host{}, fmt.Errorf("host %q: the socket path must be absolute: %w", s, errdefs.ErrInvalidArgument)
		}
		return Host{Proto: "unix", Addr: filepath.Clean(p)}, nil
	case strings.HasPrefix(s, "tcp://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return Host{}, fmt.Errorf("host %q: want tcp://HOST:PORT: %w", s, errdefs.ErrInvalidArgument)
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = "2376"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Host{}, fmt.Errorf("host %q: invalid port %q: %w", s, port, errdefs.ErrInvalidArgument)
		}
		return Host{Proto: "tcp", Addr: net.JoinHostPort(host, port)}, nil
	case strings.HasPrefix(s, "/"):
		return Host{Proto: "unix", Addr: filepath.Clean(s)}, nil
	}
	return Host{}, fmt.Errorf("host %q: only unix:// and tcp:// addresses are supported: %w", s, errdefs.ErrInvalidArgument)
}

// ListenHosts returns the parsed hosts, the default socket when none is
// configured.
func (c *Config) ListenHosts() ([]Host, error) {
	hosts := c.Hosts
	if len(hosts) == 0 {
		hosts = []string{DefaultHost}
	}
	var out []Host
	for _, s := range hosts {
		h, err := ParseHost(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "fatal": true}

// StorageDrivers maps the names a user may give to the snapshotter berthd
// uses.
var storageDrivers = map[string]string{
	"": "overlayfs", "overlayfs": "overlayfs", "overlay": "overlayfs", "overlay2": "overlayfs",
	"native": "native", "vfs": "native",
}

// Snapshotter returns the snapshotter the storage driver names:
// "overlayfs" or "native".
func (c *Config) Snapshotter() string { return storageDrivers[c.StorageDriver] }

// Validate checks a merged configuration and normalises what has several
// spellings.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
	}
	if !filepath.IsAbs(c.DataRoot) {
		return bad("data-root %q must be an absolute path", c.DataRoot)
	}
	if !filepath.IsAbs(c.ExecRoot) {
		return bad("exec-root %q must be an absolute path", c.ExecRoot)
	}
	c.DataRoot, c.ExecRoot = filepath.Clean(c.DataRoot), filepath.Clean(c.ExecRoot)
	if c.Debug {
		c.LogLevel = "debug"
	}
	if !logLevels[c.LogLevel] {
		return bad("log-level %q: want debug, info, warn, error or fatal", c.LogLevel)
	}
	if _, ok := storageDrivers[c.StorageDriver]; !ok {
		return bad("storage-driver %q: want overlayfs or native", c.StorageDriver)
	}
	if c.MaxConcurrentDownloads < 0 {
		return bad("max-concurrent-downloads %d must not be negative", c.MaxConcurrentDownloads)
	}
	if c.ShutdownTimeout < 0 {
		return bad("shutdown-timeout %d must not be negative", c.ShutdownTimeout)
	}
	if c.DefaultRuntime == "" {
		c.DefaultRuntime = DefaultRuntimeName
	}
	if _, ok := c.Runtimes[c.DefaultRuntime]; !ok && c.DefaultRuntime != DefaultRuntimeName {
		return bad("default-runtime %q is not configured in runtimes", c.DefaultRuntime)
	}
	for name, rt := range c.Runtimes {
		if rt.Path == "" {
			return bad("runtime %q has no path", name)
		}
	}
	for name, u := range c.DefaultUlimits {
		if u == nil {
			return bad("default-ulimits %q is empty", name)
		}
		if u.Name == "" {
			u.Name = name
		}
		if err := checkUlimit(u); err != nil {
			return err
		}
	}
	if err := c.validateNetwork(); err != nil {
		return err
	}
	hosts, err := c.ListenHosts()
	if err != nil {
		return err
	}
	return c.checkTLS(hosts)
}

// checkTLS allows TCP only with client certificates required: anyone who
// can reach berthd's API is root on the host.
func (c *Config) checkTLS(hosts []Host) error {
	for _, h := range hosts {
		if h.Proto != "tcp" {
			continue
		}
		if !c.TLSVerify {
			return fmt.Errorf("refusing to serve %s without --tlsverify: whoever reaches the API is root on this host, so TCP needs TLS with client certificates (--tlsverify --tlscacert --tlscert --tlskey): %w", h, errdefs.ErrInvalidArgument)
		}
		for flag, v := range map[string]string{"tlscacert": c.TLSCACert, "tlscert": c.TLSCert, "tlskey": c.TLSKey} {
			if v == "" {
				return fmt.Errorf("serving %s with --tlsverify needs --%s: %w", h, flag, errdefs.ErrInvalidArgument)
			}
		}
	}
	return nil
}

// rlimits are the resource names --default-ulimit accepts (setrlimit(2)).
var rlimits = map[string]bool{
	"core": true, "cpu": true, "data": true, "fsize": true, "locks": true, "memlock": true, "msgqueue": true,
	"nice": true, "nofile": true, "nproc": true, "rss": true, "rtprio": true, "rttime": true, "sigpending": true, "stack": true,
}

func checkUlimit(u *Ulimit) error {
	if !rlimits[u.Name] {
		return fmt.Errorf("ulimit %q: unknown resource: %w", u.Name, errdefs.ErrInvalidArgument)
	}
	if u.Soft > u.Hard && u.Hard != -1 {
		return fmt.Errorf("ulimit %s: soft limit %d is above the hard limit %d: %w", u.Name, u.Soft, u.Hard, errdefs.ErrInvalidArgument)
	}
	return nil
}

// ParseUlimit parses NAME=SOFT[:HARD] (a --default-ulimit value); -1 or
// "unlimited" means no limit.
func ParseUlimit(s string) (*Ulimit, error) {
	name, limits, ok := strings.Cut(s, "=")
	if !ok || name == "" || limits == "" {
		return nil, fmt.Errorf("ulimit %q: want NAME=SOFT[:HARD]: %w", s, errdefs.ErrInvalidArgument)
	}
	softS, hardS, hasHard := strings.Cut(limits, ":")
	soft, err := limitValue(softS)
	if err != nil {
		return nil, fmt.Errorf("ulimit %q: %w", s, err)
	}
	hard := soft
	if hasHard {
		if hard, err = limitValue(hardS); err != nil {
			return nil, fmt.Errorf("ulimit %q: %w", s, err)
		}
	}
	u := &Ulimit{Name: name, Soft: soft, Hard: hard}
	return u, checkUlimit(u)
}

func limitValue(s string) (int64, error) {
	if s == "unlimited" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("invalid limit %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return n, nil
}
