package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Defaults, as berth's layout (shared/DESIGN.md) puts them.
const (
	DefaultDataRoot    = "/var/lib/berth"
	DefaultExecRoot    = "/run/berth"
	DefaultHost        = "unix:///run/berth/berth.sock"
	DefaultConfigFile  = "/etc/berth/daemon.json"
	DefaultGroup       = "berth"
	DefaultRuntimeName = "berth-runtime"
	DefaultLogDriver   = "json-file"
)

// maxFileSize bounds daemon.json.
const maxFileSize = 1 << 20

// Runtime is an OCI runtime berthd can run containers with, as dockerd's
// "runtimes" entries: a program and extra arguments before the verb.
type Runtime struct {
	Path string   `json:"path"`
	Args []string `json:"runtimeArgs,omitempty"`
}

// Ulimit is a resource limit given to containers by default.
type Ulimit = container.Ulimit

// Config is berthd's configuration. The JSON keys are dockerd's
// daemon.json keys; each field's flag (registered by Flags) has dockerd's
// name too. Packages that are wired later (networks, volumes, builder)
// add their keys here.
type Config struct {
	DataRoot string   `json:"data-root,omitempty"`
	ExecRoot string   `json:"exec-root,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	// Group owns the unix sockets (mode 0660); root when the group does
	// not exist.
	Group   string `json:"group,omitempty"`
	Pidfile string `json:"pidfile,omitempty"` // empty: EXEC-ROOT/berthd.pid

	Debug    bool   `json:"debug,omitempty"`
	LogLevel string `json:"log-level,omitempty"` // debug, info, warn, error, fatal

	TLS       bool   `json:"tls,omitempty"`
	TLSVerify bool   `json:"tlsverify,omitempty"`
	TLSCACert string `json:"tlscacert,omitempty"`
	TLSCert   string `json:"tlscert,omitempty"`
	TLSKey    string `json:"tlskey,omitempty"`

	RegistryMirrors    []string `json:"registry-mirrors,omitempty"`
	InsecureRegistries []string `json:"insecure-registries,omitempty"`
	// MaxConcurrentDownloads is the number of layers a pull fetches at
	// once.
	MaxConcurrentDownloads int `json:"max-concurrent-downloads,omitempty"`

	// StorageDriver picks the snapshotter: "overlayfs" (also spelt
	// "overlay", "overlay2") or "native" (also "vfs"): full copies, for
	// data roots overlayfs cannot sit on.
	StorageDriver string `json:"storage-driver,omitempty"`

	LiveRestore    bool               `json:"live-restore"`
	DefaultUlimits map[string]*Ulimit `json:"default-ulimits,omitempty"`
	LogDriver      string             `json:"log-driver,omitempty"`
	LogOpts        map[string]string  `json:"log-opts,omitempty"`
	DefaultRuntime string             `json:"default-runtime,omitempty"`
	Runtimes       map[string]Runtime `json:"runtimes,omitempty"`
	Labels         []string           `json:"labels,omitempty"`
	// ShutdownTimeout is how long berthd gives containers to stop when
	// it shuts down, in seconds.
	ShutdownTimeout int `json:"shutdown-timeout,omitempty"`
	// Init runs every container under berth-init unless it asks
	// otherwise (HostConfig.Init false), as dockerd's "init".
	Init bool `json:"init,omitempty"`
	// InitPath is the berth-init binary, a path or a name looked up in
	// PATH; empty: the one beside berthd, else in PATH.
	InitPath string `json:"init-path,omitempty"`

	// Networking (network.go): the default bridge's device ("none": no
	// default bridge network) and address, the pools of user networks'
	// subnets, the containers' MTU, whether berthd writes its nftables
	// rules and turns IP forwarding on, and inter-container traffic on
	// the default bridge.
	Bridge              string        `json:"bridge,omitempty"`
	BIP                 string        `json:"bip,omitempty"`
	DefaultAddressPools []AddressPool `json:"default-address-pools,omitempty"`
	MTU                 int           `json:"mtu,omitempty"`
	IPTables            bool          `json:"iptables"`
	IPForward           bool          `json:"ip-forward"`
	ICC                 bool          `json:"icc"`
}

// Default returns the built-in configuration.
func Default() *Config {
	return &Config{
		DataRoot:               DefaultDataRoot,
		ExecRoot:               DefaultExecRoot,
		Group:                  DefaultGroup,
		LogLevel:               "info",
		MaxConcurrentDownloads: 3,
		StorageDriver:          "overlayfs",
		LiveRestore:            true,
		LogDriver:              DefaultLogDriver,
		LogOpts:                map[string]string{"max-size": "10m", "max-file": "3"},
		DefaultRuntime:         DefaultRuntimeName,
		ShutdownTimeout:        15,
		IPTables:               true,
		IPForward:              true,
		ICC:                    true,
	}
}

// Load reads a daemon.json at path over cfg. A missing file is no error
// when optional is set (the default path need not exist); an unknown key
// is, as in dockerd.
func Load(cfg *Config, path string, optional bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && optional {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("read configuration %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("configuration %s is larger than %d bytes: %w", path, maxFileSize, errdefs.ErrInvalidArgument)
	}
	if err := Decode(cfg, data); err != nil {
		return fmt.Errorf("configuration %s: %w", path, err)
	}
	return nil
}

// Decode reads daemon.json bytes over cfg. Keys that name no option are
// refused by name.
func Decode(cfg *Config, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	var unknown []string
	for k := range keys {
		if !knownKey(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the following directives don't match any configuration option: %s: %w", strings.Join(sorted(unknown), ", "), errdefs.ErrInvalidArgument)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// knownKey reports whether k is the JSON key of a Config field.
func knownKey(k string) bool {
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == k {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

// PidfilePath returns where berthd writes its process ID.
func (c *Config) PidfilePath() string {
	if c.Pidfile != "" {
		return c.Pidfile
	}
	return strings.TrimSuffix(c.ExecRoot, "/") + "/berthd.pid"
}
