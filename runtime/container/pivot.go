package container

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// pivotRoot makes rootfs the root with pivot_root(".", "."), which stacks
// the old root on top of the new one, then detaches the old root
// (pivot_root(2), NOTES). Neither a path nor an fd of the host stays reachable.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Keep unmount events of the old root from reaching the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	return nil
}

// moveRoot is --no-pivot: move the rootfs mount onto / and chroot into
// it, for rootfs on filesystems where pivot_root fails (ramfs).
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot to rootfs %s: %w", rootfs, err)
	}
	return unix.Chdir("/")
}

// finishRootfs runs after pivot_root: sysctls, read-only and masked paths,
// a read-only root, in the order that keeps each step possible (sysctls
// are written before /proc/sys turns read-only).
func finishRootfs(s *specs.Spec) error {
	for k, v := range s.Linux.Sysctl {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	for _, p := range s.Linux.ReadonlyPaths {
		if err := readonlyPath(p); err != nil {
			return err
		}
	}
	for _, p := range s.Linux.MaskedPaths {
		if err := maskPath(p, s.Linux.MountLabel); err != nil {
			return err
		}
	}
	if s.Root.Readonly {
		if err := unix.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			var st unix.Statfs_t
			if unix.Statfs("/", &st) != nil {
				return fmt.Errorf("remount root read-only: %w", err)
			}
			locked := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
			if err := unix.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|locked, ""); err != nil {
				return fmt.Errorf("remount root read-only: %w", err)
			}
		}
	}
	return nil
}

func readonlyPath(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount(p, p, "", flags, ""); err != nil {
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	return nil
}

func maskPath(p, label string) error {
	err := unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
	if errors.Is(err, unix.ENOTDIR) {
		data := ""
		if label != "" {
			data = "context=" + label
		}
		err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, data)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("mask path %s: %w", p, err)
	}
	return nil
}
