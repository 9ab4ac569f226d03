package archive

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
)

// Whiteout names, from the OCI image spec's layer section (inherited from AUFS).
const (
	whiteoutPrefix = ".wh."
	// whiteoutMeta prefixes AUFS bookkeeping entries (.wh..wh.plnk, .wh..wh.aufs).
	whiteoutMeta = ".wh..wh."
	// whiteoutOpaque, inside a directory, hides everything lower layers put there.
	whiteoutOpaque = ".wh..wh..opq"
)

// maxPath bounds entry and link names: the kernel refuses longer paths
// anyway (PATH_MAX), and the bound keeps per-entry work linear.
const maxPath = 4096

// cleanName turns a tar entry name (or hard link target) into a clean
// relative path below the layer root: "." for the root itself, no leading
// slash, no "." or ".." components. As Docker does, an absolute name is taken
// relative to the root, and a name that climbs out of it is refused rather
// than clamped.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name: %w", errdefs.ErrInvalidArgument)
	}
	if len(name) > maxPath {
		return "", fmt.Errorf("name of %d bytes is too long: %w", len(name), errdefs.ErrInvalidArgument)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("name %q holds a NUL byte: %w", name, errdefs.ErrInvalidArgument)
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("name %q leaves the layer root: %w", name, errdefs.ErrInvalidArgument)
	}
	c = strings.TrimLeft(c, "/")
	if c == "" {
		c = "."
	}
	return c, nil
}

// splitName splits a clean name into its parent directory and base name;
// the parent of a top-level entry is ".".
func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

// joinName joins a clean directory name and a base name.
func joinName(dir, base string) string {
	if dir == "." {
		return base
	}
	return dir + "/" + base
}

// whiteoutDir reports whether a directory name has a component that is a
// whiteout name. AUFS metadata directories (.wh..wh.*) are skipped by the
// caller; any other such component is malformed, since whiteouts are files.
func whiteoutDir(dir string) (aufs, bad bool) {
	if !strings.HasPrefix(dir, whiteoutPrefix) && !strings.Contains(dir, "/"+whiteoutPrefix) {
		return false, false
	}
	for c := range strings.SplitSeq(dir, "/") {
		if strings.HasPrefix(c, whiteoutMeta) {
			return true, false
		}
		if strings.HasPrefix(c, whiteoutPrefix) {
			bad = true
		}
	}
	return false, bad
}
