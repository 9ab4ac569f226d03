package archive

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/fsutil"
)

// root is the directory a layer is applied to, with the in-root resolution
// of parent directories and a small cache of their descriptors.
//
// Every parent is resolved by openat2(2) with RESOLVE_IN_ROOT, so a symlink
// met on the way (planted by an earlier entry, or already in the directory)
// resolves as it would inside a container whose root is this directory: ".."
// and absolute targets stay clamped to it. Every final component is then
// created or changed with a *at(2) call relative to that parent's descriptor
// and never followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, or calls that do not
// follow by nature: mkdirat, mknodat, symlinkat, linkat, unlinkat). Nothing
// is ever resolved by a multi-component path relative to a plain descriptor,
// which would follow symlinks out of the root.
type root struct {
	fd    int // O_RDONLY|O_DIRECTORY, so fchown/fchmod/fsetxattr work on it
	cache []cachedDir
	stale []int // descriptors dropped from the cache, closed after the entry
	tick  uint64
}

type cachedDir struct {
	name string
	fd   int
	used uint64
}

// dirCacheSize is small: tar producers list a directory's entries together,
// so only the last few parents are asked for again.
const dirCacheSize = 8

func openRoot(dir string) (*root, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &root{fd: fd}, nil
}

func (r *root) close() {
	r.invalidate()
	r.release()
	unix.Close(r.fd)
}

// invalidate drops every cached parent. It is called after anything is
// removed, since a removal may detach a cached directory or change what a
// cached name resolves to. The descriptors stay open until release, as the
// entry being applied may still hold one.
func (r *root) invalidate() {
	for _, c := range r.cache {
		r.stale = append(r.stale, c.fd)
	}
	r.cache = r.cache[:0]
}

// release closes descriptors dropped from the cache.
func (r *root) release() {
	for _, fd := range r.stale {
		unix.Close(fd)
	}
	r.stale = r.stale[:0]
}

// resolveInRoot opens name (a clean name) inside the root as an O_PATH
// descriptor, following symlinks clamped to the root.
func (r *root) resolveInRoot(name string, flags uint64) (int, error) {
	return fsutil.OpenInRoot(r.fd, name, flags)
}

// dirInRoot returns a descriptor of the directory name (clean, "." for the
// root), resolved inside the root. The descriptor belongs to the cache: the
// caller must not close it. With create, missing directories are made
// (0755, as Docker does for parents a layer does not list) and reported to
// made, which may be nil.
func (r *root) dirInRoot(name string, create bool, made func(name string, fd int) error) (int, error) {
	if name == "." {
		return r.fd, nil
	}
	r.tick++
	for i := range r.cache {
		if r.cache[i].name == name {
			r.cache[i].used = r.tick
			return r.cache[i].fd, nil
		}
	}
	fd, err := r.resolveInRoot(name, unix.O_DIRECTORY)
	if err == unix.ENOENT && create {
		fd, err = r.mkdirAllInRoot(name, made)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open directory", Path: name, Err: err}
	}
	r.remember(name, fd)
	return fd, nil
}

func (r *root) remember(name string, fd int) {
	if len(r.cache) < dirCacheSize {
		r.cache = append(r.cache, cachedDir{name: name, fd: fd, used: r.tick})
		return
	}
	lru := 0
	for i := range r.cache {
		if r.cache[i].used < r.cache[lru].used {
			lru = i
		}
	}
	// The evicted descriptor may be the other one the current entry holds
	// (a hard link's target directory), so it is closed after the entry.
	r.stale = append(r.stale, r.cache[lru].fd)
	r.cache[lru] = cachedDir{name: name, fd: fd, used: r.tick}
}

// mkdirAllInRoot creates the missing directories of name one component at a
// time. Each prefix is resolved from the root again (so symlinks on the way
// resolve in the root, as for any parent), and each missing component is
// made with mkdirat in its resolved parent. A component that exists but is
// not a directory (a file, a dangling symlink) is an error, as in Docker.
func (r *root) mkdirAllInRoot(name string, made func(name string, fd int) error) (int, error) {
	parent := r.fd
	closeParent := func() {
		if parent != r.fd {
			unix.Close(parent)
		}
	}
	defer func() { closeParent() }()
	end := 0
	for end < len(name) {
		next := strings.IndexByte(name[end:], '/')
		if next < 0 {
			next = len(name)
		} else {
			next += end
		}
		prefix, base := name[:next], name[end:next]
		end = next + 1
		fd, err := r.resolveInRoot(prefix, unix.O_DIRECTORY)
		if err == unix.ENOENT {
			if err := unix.Mkdirat(parent, base, 0o755); err != nil {
				return -1, err
			}
			if fd, err = unix.Openat(parent, base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err != nil {
				return -1, err
			}
			if made != nil {
				if err := made(prefix, fd); err != nil {
					unix.Close(fd)
					return -1, err
				}
			}
		} else if err != nil {
			return -1, err
		}
		closeParent()
		parent = fd
	}
	fd := parent
	parent = r.fd // keep fd open past the deferred close
	return fd, nil
}

// removeAllAt removes base in the directory dirfd and, if it is a
// directory, everything below it, never following a symlink.
func removeAllAt(dirfd int, base string) error {
	err := unix.Unlinkat(dirfd, base, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR && err != unix.EPERM {
		return err
	}
	if err := removeChildren(dirfd, base, nil); err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, base, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return err
	}
	return nil
}

// removeChildren removes the entries of the directory base in dirfd, except
// those for which keep returns true. keep gets the child's name and whether
// it is a directory, and may itself descend into the child.
func removeChildren(dirfd int, base string, keep func(fd int, child string, isDir bool) (bool, error)) error {
	fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	// All names are read before any is removed: removing entries while
	// reading a directory may make getdents skip some.
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if keep != nil {
			var st unix.Stat_t
			if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			k, err := keep(fd, n, st.Mode&unix.S_IFMT == unix.S_IFDIR)
			if err != nil {
				return err
			}
			if k {
				continue
			}
		}
		if err := removeAllAt(fd, n); err != nil {
			return fmt.Errorf("remove %s: %w", n, err)
		}
	}
	return nil
}
