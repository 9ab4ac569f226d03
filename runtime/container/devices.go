package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the devices every Linux container gets (runtime-spec
// config-linux.md "Default Devices").
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// createDevices creates the default devices (when /dev is not bound from
// the host) and linux.devices, with paths resolved inside root. In a user
// namespace mknod is not allowed, so the host's node is bound instead.
func createDevices(root *os.File, devs []specs.LinuxDevice, defaults, userns bool) error {
	var all []specs.LinuxDevice
	if defaults {
		mode := os.FileMode(0o666)
		for _, d := range defaultDevices {
			d.FileMode = &mode
			all = append(all, d)
		}
	}
	all = append(all, devs...)
	for _, d := range all {
		if err := createDevice(root, d, userns); err != nil {
			return err
		}
	}
	if !defaults {
		return nil
	}
	dev, err := mkdirAllInRoot(root, "/dev", 0o755)
	if err != nil {
		return err
	}
	defer dev.Close()
	for _, l := range devSymlinks {
		if err := unix.Symlinkat(l.target, int(dev.Fd()), l.name); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l.name, err)
		}
	}
	return nil
}

func createDevice(root *os.File, d specs.LinuxDevice, userns bool) error {
	parent, err := mkdirAllInRoot(root, filepath.Dir(filepath.Clean(d.Path)), 0o755)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	defer parent.Close()
	base := filepath.Base(d.Path)
	pfd := int(parent.Fd())
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("device %s: unknown type %q", d.Path, d.Type)
	}
	// Whatever the image put there (a file, a symlink) is replaced.
	if err := unix.Unlinkat(pfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("device %s: remove what is there: %w", d.Path, err)
	}
	if userns && typ != unix.S_IFIFO {
		return bindDevice(root, pfd, base, d)
	}
	if err := unix.Mknodat(pfd, base, typ|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))); err != nil {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown device %s: %w", d.Path, err)
	}
	return nil
}

func bindDevice(root *os.File, pfd int, base string, d specs.LinuxDevice) error {
	fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	unix.Close(fd)
	t, err := openInRoot(root, d.Path, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	defer t.Close()
	if err := unix.Mount(d.Path, procFD(t), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind device %s from host: %w", d.Path, err)
	}
	return nil
}

// copyUp copies the directory that a tmpfs now covers into it (the
// "tmpcopyup" option): src is the directory opened before the mount.
func copyUp(root, src *os.File, dest string) error {
	dst, err := openInRoot(root, dest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("tmpcopyup %s: %w", dest, err)
	}
	defer dst.Close()
	err = os.CopyFS(procFD(dst), os.DirFS(procFD(src)))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("tmpcopyup %s: %w", dest, err)
	}
	return nil
}
