package config

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/spf13/pflag"
)

// Flags are berthd's command-line flags, with dockerd's names. They are
// parsed into a Config of their own; Apply copies the ones the user set
// over a Config loaded from daemon.json.
type Flags struct {
	fs  *pflag.FlagSet
	v   Config
	raw struct{ ulimits, logOpts, runtimes, pools []string }
	// ConfigFile is --config-file.
	ConfigFile string
}

// NewFlags registers berthd's flags on fs.
func NewFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	d := Default()
	fs.StringVar(&f.ConfigFile, "config-file", DefaultConfigFile, "daemon configuration file")
	fs.StringVar(&f.v.DataRoot, "data-root", d.DataRoot, "root directory of persistent state")
	fs.StringVar(&f.v.ExecRoot, "exec-root", d.ExecRoot, "root directory of execution state")
	fs.StringArrayVarP(&f.v.Hosts, "host", "H", nil, "daemon socket to listen on (unix:///path or tcp://host:port)")
	fs.StringVarP(&f.v.Group, "group", "G", d.Group, "group owning the unix sockets")
	fs.StringVarP(&f.v.Pidfile, "pidfile", "p", "", "path of the daemon's PID file (default EXEC-ROOT/berthd.pid)")
	fs.BoolVarP(&f.v.Debug, "debug", "D", false, "enable debug logging")
	fs.StringVarP(&f.v.LogLevel, "log-level", "l", d.LogLevel, "logging level: debug, info, warn, error, fatal")
	fs.BoolVar(&f.v.TLS, "tls", false, "use TLS (implied by --tlsverify)")
	fs.BoolVar(&f.v.TLSVerify, "tlsverify", false, "use TLS and require and verify client certificates")
	fs.StringVar(&f.v.TLSCACert, "tlscacert", "", "trust client certificates signed by this CA")
	fs.StringVar(&f.v.TLSCert, "tlscert", "", "TLS certificate file")
	fs.StringVar(&f.v.TLSKey, "tlskey", "", "TLS key file")
	fs.StringArrayVar(&f.v.RegistryMirrors, "registry-mirror", nil, "preferred registry mirror")
	fs.StringArrayVar(&f.v.InsecureRegistries, "insecure-registry", nil, "registry reached over plain HTTP or unverified TLS (host[:port] or CIDR)")
	fs.IntVar(&f.v.MaxConcurrentDownloads, "max-concurrent-downloads", d.MaxConcurrentDownloads, "layers a pull downloads at once")
	fs.StringVarP(&f.v.StorageDriver, "storage-driver", "s", d.StorageDriver, "storage driver: overlayfs or native")
	fs.BoolVar(&f.v.LiveRestore, "live-restore", d.LiveRestore, "keep containers running while the daemon is down")
	fs.StringArrayVar(&f.raw.ulimits, "default-ulimit", nil, "default ulimit for containers, NAME=SOFT[:HARD]")
	fs.StringVar(&f.v.LogDriver, "log-driver", d.LogDriver, "default logging driver of containers")
	fs.StringArrayVar(&f.raw.logOpts, "log-opt", nil, "default logging driver option, KEY=VALUE")
	fs.StringVar(&f.v.DefaultRuntime, "default-runtime", d.DefaultRuntime, "default OCI runtime of containers")
	fs.StringArrayVar(&f.raw.runtimes, "add-runtime", nil, "register an OCI runtime, NAME=PATH")
	fs.StringArrayVar(&f.v.Labels, "label", nil, "daemon label, KEY=VALUE")
	fs.IntVar(&f.v.ShutdownTimeout, "shutdown-timeout", d.ShutdownTimeout, "seconds containers get to stop when the daemon shuts down")
	fs.BoolVar(&f.v.Init, "init", false, "run an init (berth-init) in containers to forward signals and reap processes")
	fs.StringVar(&f.v.InitPath, "init-path", "", "the berth-init binary, a path or a name in PATH (default: beside berthd, else in PATH)")
	f.networkFlags(fs, d)
	return f
}

// ConfigFileGiven reports whether --config-file was given, in which case
// the file must exist.
func (f *Flags) ConfigFileGiven() bool { return f.fs.Changed("config-file") }

// Apply copies every flag the user set over dst: flags override
// daemon.json. A list flag replaces the file's list.
func (f *Flags) Apply(dst *Config) error {
	var err error
	f.fs.Visit(func(fl *pflag.Flag) {
		if err != nil {
			return
		}
		err = f.apply(fl.Name, dst)
	})
	return err
}

func (f *Flags) apply(name string, dst *Config) error {
	if ok, err := f.applyNetwork(name, dst); ok {
		return err
	}
	v := &f.v
	switch name {
	case "data-root":
		dst.DataRoot = v.DataRoot
	case "exec-root":
		dst.ExecRoot = v.ExecRoot
	case "host":
		dst.Hosts = v.Hosts
	case "group":
		dst.Group = v.Group
	case "pidfile":
		dst.Pidfile = v.Pidfile
	case "debug":
		dst.Debug = v.Debug
	case "log-level":
		dst.LogLevel = v.LogLevel
	case "tls":
		dst.TLS = v.TLS
	case "tlsverify":
		dst.TLSVerify = v.TLSVerify
	case "tlscacert":
		dst.TLSCACert = v.TLSCACert
	case "tlscert":
		dst.TLSCert = v.TLSCert
	case "tlskey":
		dst.TLSKey = v.TLSKey
	case "registry-mirror":
		dst.RegistryMirrors = v.RegistryMirrors
	case "insecure-registry":
		dst.InsecureRegistries = v.InsecureRegistries
	case "max-concurrent-downloads":
		dst.MaxConcurrentDownloads = v.MaxConcurrentDownloads
	case "storage-driver":
		dst.StorageDriver = v.StorageDriver
	case "live-restore":
		dst.LiveRestore = v.LiveRestore
	case "log-driver":
		dst.LogDriver = v.LogDriver
	case "default-runtime":
		dst.DefaultRuntime = v.DefaultRuntime
	case "label":
		dst.Labels = v.Labels
	case "shutdown-timeout":
		dst.ShutdownTimeout = v.ShutdownTimeout
	case "init":
		dst.Init = v.Init
	case "init-path":
		dst.InitPath = v.InitPath
	case "default-ulimit":
		dst.DefaultUlimits = nil
		for _, s := range f.raw.ulimits {
			u, err := ParseUlimit(s)
			if err != nil {
				return fmt.Errorf("--default-ulimit: %w", err)
			}
			if dst.DefaultUlimits == nil {
				dst.DefaultUlimits = map[string]*Ulimit{}
			}
			dst.DefaultUlimits[u.Name] = u
		}
	case "log-opt":
		dst.LogOpts = map[string]string{}
		for _, s := range f.raw.logOpts {
			k, val, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return fmt.Errorf("--log-opt %q: want KEY=VALUE: %w", s, errdefs.ErrInvalidArgument)
			}
			dst.LogOpts[k] = val
		}
	case "add-runtime":
		for _, s := range f.raw.runtimes {
			k, path, ok := strings.Cut(s, "=")
			if !ok || k == "" || path == "" {
				return fmt.Errorf("--add-runtime %q: want NAME=PATH: %w", s, errdefs.ErrInvalidArgument)
			}
			if dst.Runtimes == nil {
				dst.Runtimes = map[string]Runtime{}
			}
			dst.Runtimes[k] = Runtime{Path: path}
		}
	}
	return nil
}
