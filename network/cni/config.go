package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
)

// maxConfig bounds a configuration file or plugin answer read into
// memory.
const maxConfig = 1 << 20

// validName is the spec's rule for network names and container IDs.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// List is a network configuration list.
type List struct {
	CNIVersion   string
	Name         string
	DisableCheck bool
	// Plugins are the plugins' configurations as given, in order.
	Plugins []Plugin
	// Bytes is the list as a JSON document (what the cache keeps).
	Bytes []byte
}

// Plugin is one plugin's configuration.
type Plugin struct {
	Type string
	// Capabilities are the runtime arguments the plugin accepts
	// ("portMappings", "ips", "mac", …).
	Capabilities map[string]bool
	// Raw is the configuration object as given.
	Raw map[string]json.RawMessage
}

// ParseList decodes a conflist, or a single plugin's configuration
// (a .conf), which it makes a list of one.
func ParseList(data []byte) (*List, error) {
	if len(data) > maxConfig {
		return nil, fmt.Errorf("parse cni configuration: larger than %d bytes: %w", maxConfig, errdefs.ErrInvalidArgument)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("parse cni configuration: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	var hdr struct {
		CNIVersion   string            `json:"cniVersion"`
		Name         string            `json:"name"`
		DisableCheck bool              `json:"disableCheck"`
		Plugins      []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(data, &hdr); err != nil {
		return nil, fmt.Errorf("parse cni configuration: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	if _, ok := top["plugins"]; !ok {
		// A single plugin's configuration.
		if _, ok := top["type"]; !ok {
			return nil, invalid("neither plugins nor type")
		}
		hdr.Plugins = []json.RawMessage{data}
	}
	l := &List{CNIVersion: hdr.CNIVersion, Name: hdr.Name, DisableCheck: hdr.DisableCheck}
	if !validName.MatchString(l.Name) {
		return nil, invalid(fmt.Sprintf("invalid network name %q", l.Name))
	}
	if l.CNIVersion == "" {
		l.CNIVersion = "0.1.0"
	}
	if !slices.Contains(versions, l.CNIVersion) {
		return nil, invalid(fmt.Sprintf("network %s: unsupported cniVersion %q", l.Name, l.CNIVersion))
	}
	if len(hdr.Plugins) == 0 {
		return nil, invalid(fmt.Sprintf("network %s: no plugins", l.Name))
	}
	if len(hdr.Plugins) > 1 && !chains(l.CNIVersion) {
		return nil, invalid(fmt.Sprintf("network %s: cniVersion %s has no plugin chaining", l.Name, l.CNIVersion))
	}
	for i, raw := range hdr.Plugins {
		p, err := parsePlugin(raw)
		if err != nil {
			return nil, invalid(fmt.Sprintf("network %s: plugin %d: %v", l.Name, i, err))
		}
		l.Plugins = append(l.Plugins, p)
	}
	l.Bytes = l.document()
	return l, nil
}

func parsePlugin(raw json.RawMessage) (Plugin, error) {
	var p Plugin
	if err := json.Unmarshal(raw, &p.Raw); err != nil {
		return p, err
	}
	if p.Raw == nil {
		return p, fmt.Errorf("not an object")
	}
	if err := json.Unmarshal(p.Raw["type"], &p.Type); err != nil {
		return p, fmt.Errorf("type: %w", err)
	}
	// The type names a program in the plugin directories: a plain file
	// name, never a path.
	if p.Type == "" || p.Type == "." || p.Type == ".." || strings.ContainsAny(p.Type, "/\\\x00") {
		return p, fmt.Errorf("invalid type %q", p.Type)
	}
	if c, ok := p.Raw["capabilities"]; ok {
		if err := json.Unmarshal(c, &p.Capabilities); err != nil {
			return p, fmt.Errorf("capabilities: %w", err)
		}
	}
	return p, nil
}

// document is the list as one JSON document.
func (l *List) document() []byte {
	plugins := make([]map[string]json.RawMessage, len(l.Plugins))
	for i, p := range l.Plugins {
		plugins[i] = p.Raw
	}
	b, _ := json.Marshal(struct {
		CNIVersion   string                       `json:"cniVersion"`
		Name         string                       `json:"name"`
		DisableCheck bool                         `json:"disableCheck,omitempty"`
		Plugins      []map[string]json.RawMessage `json:"plugins"`
	}{l.CNIVersion, l.Name, l.DisableCheck, plugins})
	return b
}

func invalid(msg string) error {
	return fmt.Errorf("parse cni configuration: %s: %w", msg, errdefs.ErrInvalidArgument)
}

// LoadList finds the configuration whose network name is name in dir:
// the .conflist files first, then .conf and .json, each kind in file
// name order (as libcni and cnitool look).
func LoadList(dir, name string) (*List, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read cni configuration directory %s: %w", dir, err)
	}
	for _, exts := range [][]string{{".conflist"}, {".conf", ".json"}} {
		for _, e := range entries {
			if e.IsDir() || !slices.Contains(exts, filepath.Ext(e.Name())) {
				continue
			}
			path := filepath.Join(dir, e.Name())
			data, err := readConfig(path)
			if err != nil {
				return nil, err
			}
			l, err := ParseList(data)
			if err != nil {
				continue // another network's broken file hides no other
			}
			if l.Name == name {
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("cni network %s: no configuration in %s: %w", name, dir, errdefs.ErrNotFound)
}

func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read cni configuration: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read cni configuration: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() > maxConfig {
		return nil, fmt.Errorf("read cni configuration %s: not a regular file of at most %d bytes: %w", path, maxConfig, errdefs.ErrInvalidArgument)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && len(data) > 0 {
		return nil, fmt.Errorf("read cni configuration: %w", err)
	}
	return data, nil
}

// versions are the spec versions a list may declare.
var versions = []string{"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"}

// chains reports whether a version has plugin chaining (0.3.0 on).
func chains(v string) bool { return v != "0.1.0" && v != "0.2.0" }

// checks reports whether a version has CHECK (0.4.0 on).
func checks(v string) bool { return v == "0.4.0" || v == "1.0.0" }
