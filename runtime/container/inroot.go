package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths from config.json (mount destinations, device paths, cwd) are
// untrusted in one way: the rootfs comes from an image, and a symlink in it
// may point anywhere. They are resolved with openat2(RESOLVE_IN_ROOT), so
// ".." and absolute symlinks stay inside the rootfs, and the resolved
// inode is then used through its fd (/proc/self/fd/N), so nothing can swap
// a path component between the check and the mount.

const inRootResolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openInRoot opens path as if root were "/".
func openInRoot(root *os.File, path string, flags int) (*os.File, error) {
	rel := strings.TrimLeft(filepath.Clean("/"+path), "/")
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags: uint64(flags | unix.O_CLOEXEC), Resolve: inRootResolve,
	})
	if err != nil {
		return nil, &os.PathError{Op: "open in rootfs", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root.Name(), rel)), nil
}

// mkdirAllInRoot creates the directory path and its parents inside root
// and returns an O_PATH handle on it.
func mkdirAllInRoot(root *os.File, path string, mode os.FileMode) (*os.File, error) {
	clean := filepath.Clean("/" + path)
	if d, err := openInRoot(root, clean, unix.O_PATH|unix.O_DIRECTORY); err == nil {
		return d, nil
	}
	cur, err := openInRoot(root, "/", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	done := "/"
	for _, part := range strings.Split(strings.TrimPrefix(clean, "/"), "/") {
		if part == "" {
			continue
		}
		next := filepath.Join(done, part)
		d, err := openInRoot(root, next, unix.O_PATH|unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			// The component may be a dangling symlink: mkdirat does not follow
			// it, and the open below then resolves the new directory in root.
			if err := unix.Mkdirat(int(cur.Fd()), part, uint32(mode.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
				cur.Close()
				return nil, fmt.Errorf("mkdir %s in rootfs: %w", next, err)
			}
			d, err = openInRoot(root, next, unix.O_PATH|unix.O_DIRECTORY)
		}
		cur.Close()
		if err != nil {
			return nil, fmt.Errorf("mkdir %s in rootfs: %w", next, err)
		}
		cur, done = d, next
	}
	return cur, nil
}

// createInRoot makes sure path exists inside root as a directory (dir) or
// a regular file, and returns an O_PATH handle on it.
func createInRoot(root *os.File, path string, dir bool) (*os.File, error) {
	if dir {
		return mkdirAllInRoot(root, path, 0o755)
	}
	if f, err := openInRoot(root, path, unix.O_PATH); err == nil {
		return f, nil
	}
	parent, err := mkdirAllInRoot(root, filepath.Dir(filepath.Clean("/"+path)), 0o755)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	base := filepath.Base(path)
	fd, err := unix.Openat(int(parent.Fd()), base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err == nil {
		unix.Close(fd)
	} else if !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %s in rootfs: %w", path, err)
	}
	return openInRoot(root, path, unix.O_PATH)
}

// procFD names an fd for the *at-less syscalls (mount) to act on its inode.
func procFD(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }
