package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigName is the file name of the configuration inside a bundle.
const ConfigName = "config.json"

// Load reads and validates bundle/config.json. A relative root.path is made
// absolute against the bundle directory.
func Load(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, ConfigName)
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load bundle %s: %s not found", bundle, ConfigName)
		}
		return nil, fmt.Errorf("load bundle %s: %w", bundle, err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", p, err)
	}
	if s.Root != nil && !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(bundle, s.Root.Path)
	}
	return s, nil
}

// Parse decodes and validates a config.json document.
func Parse(data []byte) (*specs.Spec, error) {
	var d Doc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	s := d.Spec()
	if err := Validate(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Doc is specs.Spec without the sections of other platforms (solaris,
// windows, vm, zos, freebsd), with the same JSON names: what a Linux
// runtime reads and keeps. encoding/json builds the encoders of every type
// reachable from a struct it decodes into or encodes, and those sections
// reach dozens of types, about a third of the cost of a spec's first
// decode in a freshly started runtime. Decode and encode specs through
// Doc; the other platforms' sections are ignored.
type Doc struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *specs.Linux      `json:"linux,omitempty"`
}

// ToDoc returns the Linux part of s; nil for nil.
func ToDoc(s *specs.Spec) *Doc {
	if s == nil {
		return nil
	}
	return &Doc{
		Version: s.Version, Process: s.Process, Root: s.Root, Hostname: s.Hostname, Domainname: s.Domainname,
		Mounts: s.Mounts, Hooks: s.Hooks, Annotations: s.Annotations, Linux: s.Linux,
	}
}

// Spec returns d as a specs.Spec; nil for nil.
func (d *Doc) Spec() *specs.Spec {
	if d == nil {
		return nil
	}
	return &specs.Spec{
		Version: d.Version, Process: d.Process, Root: d.Root, Hostname: d.Hostname, Domainname: d.Domainname,
		Mounts: d.Mounts, Hooks: d.Hooks, Annotations: d.Annotations, Linux: d.Linux,
	}
}

// CheckVersion accepts any 1.x version (with optional pre-release suffix).
func CheckVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion is missing")
	}
	major, rest, ok := strings.Cut(v, ".")
	if !ok {
		return fmt.Errorf("ociVersion %q is not a semantic version", v)
	}
	n, err := strconv.Atoi(major)
	if err != nil {
		return fmt.Errorf("ociVersion %q is not a semantic version", v)
	}
	if n != specs.VersionMajor {
		return fmt.Errorf("ociVersion %q is not supported: berth-runtime implements %d.x", v, specs.VersionMajor)
	}
	minor, _, _ := strings.Cut(rest, ".")
	if _, err := strconv.Atoi(minor); err != nil {
		return fmt.Errorf("ociVersion %q is not a semantic version", v)
	}
	return nil
}
