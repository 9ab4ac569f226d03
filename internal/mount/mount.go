package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Mount is one mount as data: what to mount (Type and Source) and how
// (Options, in mount(8) syntax). Type "bind" with option "rbind" binds
// recursively; "ro" on a bind makes the new mount read-only without touching
// the source. Options that are neither mount flags nor propagation types
// (for overlay: lowerdir=, upperdir=, workdir=, index=off…) go to the
// filesystem.
type Mount struct {
	Type    string
	Source  string
	Options []string
}

// All applies mounts in order onto target; each later mount stacks on the
// earlier ones. When one fails, the mounts already applied are taken off
// again and the error names the failing mount and target.
func All(mounts []Mount, target string) error {
	abs, err := filepath.Abs(target)
	if err != nil {
		return fmt.Errorf("mount on %s: %w", target, err)
	}
	for i, m := range mounts {
		if err := m.mount(abs); err != nil {
			for range i {
				if uerr := Unmount(abs); uerr != nil {
					err = errors.Join(err, uerr)
					break
				}
			}
			return err
		}
	}
	return nil
}

func (m Mount) mount(target string) error {
	o := parseOptions(m.Options)
	var err error
	switch {
	case m.Type == "overlay":
		err = mountOverlay(m.Source, target, o)
	case m.Type == "bind" || o.flags&unix.MS_BIND != 0:
		err = mountBind(m.Source, target, o)
	default:
		if err = unix.Mount(m.Source, target, m.Type, o.flags, o.dataString()); err != nil {
			err = fmt.Errorf("mount %s %s on %s: %w", m.Type, m.Source, target, err)
		}
	}
	if err != nil {
		return err
	}
	for _, p := range o.propagation {
		if err := unix.Mount("", target, "", p, ""); err != nil {
			return errors.Join(fmt.Errorf("set propagation of %s: %w", target, err), Unmount(target))
		}
	}
	return nil
}

// mountBind binds source onto target and then applies the per-mount flags
// (ro, nosuid…): a bind ignores them on the first call, see mount(2).
func mountBind(source, target string, o options) error {
	flags := unix.MS_BIND | o.flags&unix.MS_REC
	if err := unix.Mount(source, target, "", flags, ""); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", source, target, err)
	}
	set := o.mountAttr()
	if set == 0 {
		return nil
	}
	attr := unix.MountAttr{Attr_set: set}
	if set&unix.MOUNT_ATTR__ATIME != 0 {
		attr.Attr_clr = unix.MOUNT_ATTR__ATIME
	}
	at := unix.AT_SYMLINK_NOFOLLOW
	if o.flags&unix.MS_REC != 0 {
		at |= unix.AT_RECURSIVE // ro on an rbind covers the submounts too
	}
	err := unix.MountSetattr(unix.AT_FDCWD, target, uint(at), &attr)
	if errors.Is(err, unix.ENOSYS) {
		// Before Linux 5.12: a bind remount, which only reaches the top mount.
		err = unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|o.flags&^unix.MS_REC, "")
	}
	if err != nil {
		return errors.Join(fmt.Errorf("set flags of bind mount %s: %w", target, err), Unmount(target))
	}
	return nil
}

// Unmount takes the topmost mount off target. It does not detach lazily: a
// busy mount is an error (EBUSY) that names target.
func Unmount(target string) error {
	err := unix.Unmount(target, unix.UMOUNT_NOFOLLOW)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("unmount %s: not a mount point: %w", target, err)
	default:
		return fmt.Errorf("unmount %s: %w", target, err)
	}
}

// UnmountAll takes off every mount stacked on target and every mount below
// it (as an rbind brings), deepest and most recent first. A target that is
// not mounted, or does not exist, is not an error.
func UnmountAll(target string) error {
	if real, err := filepath.EvalSymlinks(target); err == nil {
		target = real
	} else if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	mps, err := Under(target)
	if err != nil {
		return err
	}
	// mountinfo lists parents before children and older mounts before the
	// ones stacked on them, so the reverse order is safe to unmount in.
	for i := len(mps) - 1; i >= 0; i-- {
		err := unix.Unmount(mps[i], unix.UMOUNT_NOFOLLOW)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mps[i], err)
		}
	}
	if left, err := Under(target); err != nil {
		return err
	} else if len(left) > 0 {
		return fmt.Errorf("unmount %s: %s still mounted", target, left[len(left)-1])
	}
	return nil
}
