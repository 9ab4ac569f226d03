package config

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/containerd/errdefs"
)

// RuntimePath returns the program of the runtime name: its "runtimes"
// entry (a bare name looked up in PATH), or, for berth-runtime when no
// entry names it, the berth-runtime beside the berthd executable, else
// the one in PATH.
func (c *Config) RuntimePath(name string) (string, error) {
	if rt, ok := c.Runtimes[name]; ok {
		p, err := exec.LookPath(rt.Path)
		if err != nil {
			return "", fmt.Errorf("runtime %s: %w", name, err)
		}
		return filepath.Abs(p)
	}
	if name != DefaultRuntimeName {
		return "", fmt.Errorf("runtime %q is not configured: %w", name, errdefs.ErrNotFound)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), DefaultRuntimeName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(DefaultRuntimeName)
	if err != nil {
		return "", fmt.Errorf("runtime %s: not beside berthd nor in PATH: %w", name, errdefs.ErrNotFound)
	}
	return filepath.Abs(p)
}
