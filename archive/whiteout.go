package archive

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// whiteout applies a whiteout entry base (".wh.NAME" or ".wh..wh..opq") of
// the directory dir. Per the image spec, a whiteout hides what lower layers
// put there, never what its own layer adds, whatever the entries' order.
func (a *applier) whiteout(dir, base string) error {
	if base == whiteoutOpaque {
		if a.opts.Whiteouts == Overlay {
			return a.opaqueOverlay(dir)
		}
		return a.opaqueDelete(dir)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // AUFS metadata
	}
	target := base[len(whiteoutPrefix):]
	if target == "" || target == "." || target == ".." {
		return fmt.Errorf("whiteout of %q: %w", target, errdefs.ErrInvalidArgument)
	}
	if a.opts.Whiteouts == Overlay {
		return a.whiteoutOverlay(dir, target)
	}
	return a.whiteoutDelete(dir, target)
}

// whiteoutOverlay makes target in dir an overlay whiteout. The upper
// directory was empty, so an entry already there comes from this layer and
// stays; if it is a directory, it becomes opaque, hiding the lower one.
func (a *applier) whiteoutOverlay(dir, target string) error {
	pfd, err := a.root.dirInRoot(dir, true, a.madeDir)
	if err != nil {
		return err
	}
	err = unix.Mknodat(pfd, target, unix.S_IFCHR, 0)
	if err != unix.EEXIST {
		if err != nil {
			return fmt.Errorf("create whiteout: %w", err)
		}
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, target, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat whiteout target: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if err := unix.Lsetxattr(fdPath(pfd, target), overlayOpaque, []byte("y"), 0); err != nil {
		return fmt.Errorf("set %s: %w", overlayOpaque, err)
	}
	return nil
}

// opaqueOverlay marks dir opaque, creating it if the layer has not.
func (a *applier) opaqueOverlay(dir string) error {
	dfd, err := a.root.dirInRoot(dir, true, a.madeDir)
	if err != nil {
		return err
	}
	// dfd is an O_PATH descriptor: setxattr reaches the directory through
	// its /proc magic link.
	if err := unix.Setxattr(fdPath(dfd, ""), overlayOpaque, []byte("y"), 0); err != nil {
		return fmt.Errorf("set %s: %w", overlayOpaque, err)
	}
	return nil
}

// whiteoutDelete removes target from dir unless this layer created it; a
// directory this layer created or merged loses what lower layers had in it.
func (a *applier) whiteoutDelete(dir, target string) error {
	name := joinName(dir, target)
	pfd, err := a.root.dirInRoot(dir, false, nil)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // nothing there to hide
	}
	if err != nil {
		return err
	}
	if _, ok := a.created[name]; ok {
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, target, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat whiteout target: %w", err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil
		}
		a.root.invalidate()
		return removeChildren(pfd, target, a.keepCreated(name))
	}
	a.root.invalidate()
	if err := removeAllAt(pfd, target); err != nil {
		return fmt.Errorf("remove whiteout target: %w", err)
	}
	return nil
}

// opaqueDelete removes what lower layers put in dir, keeping what this
// layer added.
func (a *applier) opaqueDelete(dir string) error {
	dfd, err := a.root.dirInRoot(dir, false, nil)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	a.root.invalidate()
	if err := removeChildren(dfd, ".", a.keepCreated(dir)); err != nil {
		return fmt.Errorf("clear opaque directory: %w", err)
	}
	return nil
}

// keepCreated returns the filter that spares this layer's entries below the
// directory prefix, descending into its directories.
func (a *applier) keepCreated(prefix string) func(fd int, child string, isDir bool) (bool, error) {
	return func(fd int, child string, isDir bool) (bool, error) {
		name := joinName(prefix, child)
		if _, ok := a.created[name]; !ok {
			return false, nil
		}
		if isDir {
			return true, removeChildren(fd, child, a.keepCreated(name))
		}
		return true, nil
	}
}
