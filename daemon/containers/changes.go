package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/internal/mount"
)

// Kinds of a filesystem change, as the Engine API numbers them.
const (
	changeModified container.ChangeType = 0
	changeAdded    container.ChangeType = 1
	changeDeleted  container.ChangeType = 2
)

// runtimePaths are the mount points the runtime makes in the writable
// layer for what it mounts over them; docker diff does not list them.
var runtimePaths = map[string]bool{
	"/dev": true, "/proc": true, "/sys": true, "/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true,
	"/sbin/berth-init": true,
}

// Changes lists what a container changed in its filesystem, as GET
// /containers/{id}/changes: from the overlay upper directory, a whiteout
// is a deletion, a path that some lower layer has a modification, others
// additions.
func (s *Service) Changes(ctx context.Context, ref string) ([]container.FilesystemChange, error) {
	c, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	upper, lowers, err := s.layerPaths(ctx, c.id)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	c.mu.Lock()
	for _, m := range containerMounts(c.rec) {
		skip[m.Destination] = true
	}
	for dest := range c.rec.HostConfig.Tmpfs {
		skip[path.Clean(dest)] = true
	}
	c.mu.Unlock()
	type entry struct {
		container.FilesystemChange
		dir bool
	}
	var all []entry
	err = filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(upper, p)
		if rel == "." {
			return nil
		}
		name := "/" + rel
		if runtimePaths[name] || skip[name] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		kind := changeAdded
		if isWhiteout(d, p) {
			kind = changeDeleted
		} else if inLower(lowers, rel) {
			kind = changeModified
		}
		all = append(all, entry{container.FilesystemChange{Path: name, Kind: kind}, d.IsDir()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("changes of container %s: %w", c.id, err)
	}
	// A directory is listed as modified for what changed below it; one
	// that is in the upper layer only for the runtime's mount points is
	// not listed.
	busy := map[string]bool{}
	for _, e := range all {
		if !e.dir || e.Kind != changeModified {
			for p := path.Dir(e.Path); p != "/"; p = path.Dir(p) {
				busy[p] = true
			}
		}
	}
	out := []container.FilesystemChange{}
	for _, e := range all {
		if e.dir && e.Kind == changeModified && !busy[e.Path] {
			continue
		}
		out = append(out, e.FilesystemChange)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// layerPaths are the upper and lower directories of a container's
// overlay layer.
func (s *Service) layerPaths(ctx context.Context, id string) (upper string, lowers []string, err error) {
	ms, err := s.o.Snapshots.Mounts(ctx, id)
	if err != nil {
		return "", nil, fmt.Errorf("layer of container %s: %w", id, err)
	}
	for _, m := range ms {
		for _, o := range m.Options {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "upperdir":
				upper = v
			case "lowerdir":
				lowers = strings.Split(v, ":")
			}
		}
	}
	if upper == "" {
		return "", nil, errorf(errdefs.ErrNotImplemented, "changes need the overlayfs storage driver")
	}
	return upper, lowers, nil
}

// isWhiteout reports an overlay whiteout: a character device 0:0.
func isWhiteout(d fs.DirEntry, p string) bool {
	if d.Type()&fs.ModeCharDevice == 0 {
		return false
	}
	var st syscall.Stat_t
	return syscall.Lstat(p, &st) == nil && st.Rdev == 0
}

func inLower(lowers []string, rel string) bool {
	for _, l := range lowers {
		if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
			return true
		}
	}
	return false
}

// Export writes a container's filesystem as a tar stream, as GET
// /containers/{id}/export; a container that does not run has its layer
// mounted meanwhile.
func (s *Service) Export(ctx context.Context, ref string, w io.Writer) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	c.mu.Lock()
	running := c.sh != nil
	c.mu.Unlock()
	if !running {
		if err := s.mountRootfs(ctx, c.id); err != nil {
			return err
		}
		defer func() {
			if err := mount.UnmountAll(s.rootfs(c.id)); err != nil {
				s.log.Warn("unmount after export", "container", c.id, "error", err)
			}
		}()
	}
	if err := archive.Tar(ctx, w, s.rootfs(c.id)); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	s.publish(c, events.ActionExport, nil)
	return nil
}
