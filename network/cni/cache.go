package cni

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/fsutil"
)

// entry is one cached attachment: what ADD ran with and answered.
type entry struct {
	Kind        string          `json:"kind"` // entryKind
	Network     string          `json:"network"`
	ContainerID string          `json:"containerId"`
	IfName      string          `json:"ifName"`
	NetNS       string          `json:"netns,omitempty"`
	NetNSID     string          `json:"netnsId,omitempty"` // the namespace's device:inode at ADD
	Args        [][2]string     `json:"args,omitempty"`
	Ports       []PortMapping   `json:"portMappings,omitempty"`
	IPs         []string        `json:"ips,omitempty"`
	MAC         string          `json:"mac,omitempty"`
	Config      json.RawMessage `json:"config"`
	Result      json.RawMessage `json:"result,omitempty"` // absent: ADD did not finish
}

const entryKind = "berth/cni-attachment-v1"

// key is the cache file's name: network, container and interface, each
// checked to be a plain name.
func key(network, containerID, ifname string) (string, error) {
	if !validName.MatchString(network) {
		return "", fmt.Errorf("cni: invalid network name %q: %w", network, errdefs.ErrInvalidArgument)
	}
	if !validName.MatchString(containerID) {
		return "", fmt.Errorf("cni: invalid container id %q: %w", containerID, errdefs.ErrInvalidArgument)
	}
	if err := checkIfName(ifname); err != nil {
		return "", err
	}
	// "~" is in neither a network name nor a container ID: no two keys
	// share a file name.
	return network + "~" + containerID + "~" + ifname + ".json", nil
}

// checkIfName is the spec's rule for CNI_IFNAME.
func checkIfName(n string) error {
	if n == "" || len(n) > 15 || n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n\x00") {
		return fmt.Errorf("cni: invalid interface name %q: %w", n, errdefs.ErrInvalidArgument)
	}
	return nil
}

func (r *Runner) cachePath(network, containerID, ifname string) (string, error) {
	k, err := key(network, containerID, ifname)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.o.CacheDir, k), nil
}

func (r *Runner) putEntry(e *entry) error {
	path, err := r.cachePath(e.Network, e.ContainerID, e.IfName)
	if err != nil {
		return err
	}
	e.Kind = entryKind
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.o.CacheDir, 0o700); err != nil {
		return fmt.Errorf("cni cache: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("cni cache: write %s: %w", path, err)
	}
	return nil
}

// getEntry is the cached attachment; nil when there is none.
func (r *Runner) getEntry(network, containerID, ifname string) (*entry, error) {
	path, err := r.cachePath(network, containerID, ifname)
	if err != nil {
		return nil, err
	}
	return readEntry(path)
}

func readEntry(path string) (*entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cni cache: %w", err)
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil || e.Kind != entryKind {
		return nil, fmt.Errorf("cni cache: %s is not an attachment record: %w", path, errdefs.ErrDataLoss)
	}
	return &e, nil
}

func (r *Runner) dropEntry(network, containerID, ifname string) error {
	path, err := r.cachePath(network, containerID, ifname)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cni cache: %w", err)
	}
	return nil
}

// Cached is an attachment the cache holds: ADD ran (or began) and DEL
// did not finish.
type Cached struct {
	Network     string
	ContainerID string
	IfName      string
	NetNS       string
	Done        bool // ADD finished (the result is cached)
}

// Attached lists the cached attachments, for a daemon's reconciliation
// at start: those of containers no longer running are to be deleted.
func (r *Runner) Attached() ([]Cached, error) {
	des, err := os.ReadDir(r.o.CacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cni cache: %w", err)
	}
	var out []Cached
	for _, d := range des {
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		e, err := readEntry(filepath.Join(r.o.CacheDir, d.Name()))
		if err != nil || e == nil {
			continue
		}
		if k, err := key(e.Network, e.ContainerID, e.IfName); err != nil || k != d.Name() {
			continue
		}
		out = append(out, Cached{Network: e.Network, ContainerID: e.ContainerID, IfName: e.IfName, NetNS: e.NetNS, Done: len(e.Result) > 0})
	}
	return out, nil
}

// nsID identifies the namespace file at path ("device:inode"); empty
// when it cannot be opened.
func nsID(path string) string {
	var st unix.Stat_t
	if path == "" || unix.Stat(path, &st) != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// sameNS keeps e.NetNS only while it is the namespace ADD had: a path
// of a process that ended may name another process's namespace now,
// whose interfaces DEL must not touch.
func sameNS(e *entry) {
	if e.NetNS != "" && e.NetNSID != "" && nsID(e.NetNS) != e.NetNSID {
		e.NetNS = ""
	}
}
