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
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: inRootResolve}
	fd, err := unix.Openat2(int(root.Fd()), rel, how)
	// A scoped look-up fails with EAGAIN when any mount or rename ran on
	// the host while it walked ".." (openat2(2)): retry a few times.
	for i := 0; err == unix.EAGAIN && i < 16; i++ {
		fd, err = unix.Openat2(int(root.Fd()), rel, how)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open in rootfs", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root.Name(), rel)), nil
}

// maxSymlinks bounds the dangling symlinks followed while creating a path,
// as the kernel bounds a look-up (path_resolution(7)).
const maxSymlinks = 40

// mkdirAllInRoot creates the directory path and its parents inside root
// and returns an O_PATH handle on it.
func mkdirAllInRoot(root *os.File, path string, mode os.FileMode) (*os.File, error) {
	return mkdirAllInRootN(root, path, mode, 0)
}

func mkdirAllInRootN(root *os.File, path string, mode os.FileMode, links int) (*os.File, error) {
	clean := filepath.Clean("/" + path)
	if d, err := openInRoot(root, clean, unix.O_PATH|unix.O_DIRECTORY); err == nil {
		return d, nil
	}
	cur, err := openInRoot(root, "/", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	done := "/"
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := filepath.Join(done, part)
		d, err := openInRoot(root, next, unix.O_PATH|unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			err = unix.Mkdirat(int(cur.Fd()), part, uint32(mode.Perm()))
			if errors.Is(err, unix.EEXIST) {
				// A dangling symlink (mkdirat does not follow it): create
				// its target instead, resolved inside root as the kernel
				// will resolve the link in the container.
				if target, ok := followInRoot(root, cur, done, part); ok {
					cur.Close()
					if links >= maxSymlinks {
						return nil, fmt.Errorf("mkdir %s in rootfs: %w", clean, unix.ELOOP)
					}
					return mkdirAllInRootN(root, filepath.Join(target, filepath.Join(parts[i+1:]...)), mode, links+1)
				}
			}
			if err != nil && !errors.Is(err, unix.EEXIST) {
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

// followInRoot reads the symlink name in dir (at lexical path dirPath in
// root) and returns the path it names inside root. Nothing is resolved
// here: the caller resolves the result with openat2(RESOLVE_IN_ROOT), so
// ".." and absolute targets stay inside root.
func followInRoot(root, dir *os.File, dirPath, name string) (string, bool) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(dir.Fd()), name, buf)
	if err != nil {
		return "", false
	}
	target := string(buf[:n])
	if filepath.IsAbs(target) {
		return target, true
	}
	// Relative to where dir really is in root, which differs from
	// dirPath when a component before was a symlink.
	base := dirPath
	r, err1 := os.Readlink(procFD(root))
	d, err2 := os.Readlink(procFD(dir))
	if err1 == nil && err2 == nil {
		if d == r {
			base = "/"
		} else if rel, ok := strings.CutPrefix(d, strings.TrimSuffix(r, "/")+"/"); ok {
			base = "/" + rel
		}
	}
	return filepath.Join(base, target), true
}

// createInRoot makes sure path exists inside root as a directory (dir) or
// a regular file, and returns an O_PATH handle on it.
func createInRoot(root *os.File, path string, dir bool) (*os.File, error) {
	if dir {
		return mkdirAllInRoot(root, path, 0o755)
	}
	return createFileInRoot(root, path, 0)
}

func createFileInRoot(root *os.File, path string, links int) (*os.File, error) {
	if f, err := openInRoot(root, path, unix.O_PATH); err == nil {
		return f, nil
	}
	parentPath := filepath.Dir(filepath.Clean("/" + path))
	parent, err := mkdirAllInRoot(root, parentPath, 0o755)
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
	f, err := openInRoot(root, path, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) && links < maxSymlinks {
		// A dangling symlink: create the file it names, inside root.
		if target, ok := followInRoot(root, parent, parentPath, base); ok {
			return createFileInRoot(root, target, links+1)
		}
	}
	return f, err
}

// procFD names an fd for the *at-less syscalls (mount) to act on its inode.
func procFD(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }
