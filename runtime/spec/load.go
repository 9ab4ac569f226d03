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
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	if err := Validate(&s); err != nil {
		return nil, err
	}
	return &s, nil
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
