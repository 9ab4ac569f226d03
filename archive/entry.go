package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// The creators below make one entry in the parent directory pfd. Each
// creates first and looks only when the name is taken (EEXIST), so the
// common case, a name not yet there, costs no lookup. Docker's overwrite
// rules apply: a directory over a directory merges, anything else replaces
// what is there (a whole tree, for a directory).
//
// The order of metadata calls matters: chown clears setuid/setgid bits and
// the security.capability attribute (capabilities(7)), so owner first, then
// mode, then attributes, then times (which every other change would touch).

// file creates a regular file and copies its data from r.
func (a *applier) file(pfd int, base string, hdr *tar.Header, r io.Reader) error {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(pfd, base, flags, 0o600)
	if err == unix.EEXIST {
		if err = a.clear(pfd, base); err == nil {
			fd, err = unix.Openat(pfd, base, flags, 0o600)
		}
	}
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	err = a.fileData(fd, hdr, r)
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = fmt.Errorf("close file: %w", cerr)
	}
	return err
}

func (a *applier) fileData(fd int, hdr *tar.Header, r io.Reader) error {
	if hdr.Size > 0 {
		// The tar reader yields at most hdr.Size bytes and fails on a
		// short stream, so a declared size is never trusted for memory.
		if _, err := io.CopyBuffer(fdWriter(fd), r, a.buf); err != nil {
			return fmt.Errorf("write file: %w", err)
		}
	}
	if !a.opts.NoSameOwner {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, modeBits(hdr)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := eachXattr(hdr, func(name, value string) error {
		return unix.Fsetxattr(fd, name, []byte(value), 0)
	}, true); err != nil {
		return err
	}
	ts := times(hdr)
	if err := futimens(fd, &ts); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// dir creates or merges a directory. Its times are set at the end.
func (a *applier) dir(pfd int, name, base string, hdr *tar.Header) error {
	opaque := false
	err := unix.Mkdirat(pfd, base, 0o700)
	if err == unix.EEXIST {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat existing entry: %w", err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = nil // merge
		} else if a.opts.NoReplaceDirKind {
			return fmt.Errorf("cannot overwrite non-directory %q with directory: %w", name, errdefs.ErrInvalidArgument)
		} else {
			// A directory over an overlay whiteout (".wh.d" then "d/" in
			// one layer) replaces the lower d: it must hide d's lower
			// content, so it is opaque.
			opaque = a.opts.Whiteouts == Overlay && isWhiteout(&st)
			if err = a.clear(pfd, base); err == nil {
				err = unix.Mkdirat(pfd, base, 0o700)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if err := a.metaAt(pfd, base, hdr, true); err != nil {
		return err
	}
	if opaque {
		if err := unix.Lsetxattr(fdPath(pfd, base), overlayOpaque, []byte("y"), 0); err != nil {
			return fmt.Errorf("set %s: %w", overlayOpaque, err)
		}
	}
	a.dirTime[name] = times(hdr)
	return nil
}

// rootDir applies a "./" entry's metadata to the root itself.
func (a *applier) rootDir(hdr *tar.Header) error {
	fd := a.root.fd
	if !a.opts.NoSameOwner {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, modeBits(hdr)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := eachXattr(hdr, func(name, value string) error {
		return unix.Fsetxattr(fd, name, []byte(value), 0)
	}, true); err != nil {
		return err
	}
	a.dirTime["."] = times(hdr)
	return nil
}

func (a *applier) symlink(pfd int, base string, hdr *tar.Header) error {
	err := unix.Symlinkat(hdr.Linkname, pfd, base)
	if err == unix.EEXIST {
		if err = a.clear(pfd, base); err == nil {
			err = unix.Symlinkat(hdr.Linkname, pfd, base)
		}
	}
	if err != nil {
		return fmt.Errorf("create symlink: %w", err)
	}
	return a.metaAt(pfd, base, hdr, false)
}

// hardlink links base to the entry the header names, which must already be
// in this layer's directory. The target's parent resolves inside the root
// and the target itself is never followed (linkat without
// AT_SYMLINK_FOLLOW), so a link to a symlink links the symlink. The shared
// inode keeps its own metadata.
func (a *applier) hardlink(pfd int, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link target: %w", err)
	}
	if target == "." {
		return fmt.Errorf("hard link to the layer root: %w", errdefs.ErrInvalidArgument)
	}
	tdir, tbase := splitName(target)
	tfd, err := a.root.dirInRoot(tdir, false, nil)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	err = unix.Linkat(tfd, tbase, pfd, base, 0)
	if err == unix.EEXIST {
		if err = a.clear(pfd, base); err == nil {
			err = unix.Linkat(tfd, tbase, pfd, base, 0)
		}
	}
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// node creates a device node or a fifo.
func (a *applier) node(pfd int, base string, hdr *tar.Header) error {
	mode := modeBits(hdr)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	default:
		mode |= unix.S_IFIFO
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	err := unix.Mknodat(pfd, base, mode, dev)
	if err == unix.EEXIST {
		if err = a.clear(pfd, base); err == nil {
			err = unix.Mknodat(pfd, base, mode, dev)
		}
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", typeName(hdr.Typeflag), err)
	}
	return a.metaAt(pfd, base, hdr, true)
}

// metaAt sets owner, mode, attributes and (except for directories) times
// of an entry Apply just created. chmod is skipped for symlinks (their mode
// means nothing on Linux); fchmodat follows symlinks, and base is known not
// to be one.
func (a *applier) metaAt(pfd int, base string, hdr *tar.Header, chmod bool) error {
	if !a.opts.NoSameOwner {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if chmod {
		if err := unix.Fchmodat(pfd, base, modeBits(hdr), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if len(hdr.PAXRecords) > 0 {
		p := fdPath(pfd, base)
		regularOrDir := hdr.Typeflag == tar.TypeDir
		if err := eachXattr(hdr, func(name, value string) error {
			return unix.Lsetxattr(p, name, []byte(value), 0)
		}, regularOrDir); err != nil {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	ts := times(hdr)
	if err := unix.UtimesNanoAt(pfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// clear removes whatever is at base so a new entry (not a directory:
// dir merges) can take its place.
func (a *applier) clear(pfd int, base string) error {
	if a.opts.NoReplaceDirKind {
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return fmt.Errorf("cannot overwrite directory %q with non-directory: %w", base, errdefs.ErrInvalidArgument)
		}
	}
	a.root.invalidate()
	if err := removeAllAt(pfd, base); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	return nil
}

// setDirTimes sets the times of the layer's directories, now that nothing
// more will be created in them. Directories removed since are skipped.
func (a *applier) setDirTimes() error {
	names := make([]string, 0, len(a.dirTime))
	for n := range a.dirTime {
		names = append(names, n)
	}
	sort.Strings(names) // siblings together, so parents come from the cache
	for _, n := range names {
		ts := a.dirTime[n]
		if n == "." {
			if err := futimens(a.root.fd, &ts); err != nil {
				return fmt.Errorf("set times of the root: %w", err)
			}
			continue
		}
		dir, base := splitName(n)
		pfd, err := a.root.dirInRoot(dir, false, nil)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return err
		}
		err = unix.UtimesNanoAt(pfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
		if err != nil && err != unix.ENOENT {
			return fmt.Errorf("set times of %s: %w", n, err)
		}
	}
	return nil
}

// eachXattr calls set for each extended attribute in the header's PAX
// records, except overlayfs' own, and passes over the failures that mean
// the filesystem or entry type cannot hold that attribute.
func eachXattr(hdr *tar.Header, set func(name, value string) error, regularOrDir bool) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, paxXattr)
		if !ok || name == "" || overlayXattr(name) {
			continue
		}
		if err := set(name, v); err != nil && !skipXattrErr(err, name, regularOrDir) {
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}

// modeBits returns the permission bits of a header, with setuid, setgid and
// sticky (whose tar values are those of Linux).
func modeBits(hdr *tar.Header) uint32 {
	return uint32(hdr.Mode) & 0o7777
}

// times returns the access and modification times for an entry; a layer
// without an access time gets its modification time for both, as in Docker.
func times(hdr *tar.Header) [2]unix.Timespec {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	return [2]unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
}

// timespec converts without UnixNano, which overflows outside 1678–2262.
func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// futimens sets the times of an open file: utimensat(2) with a NULL path,
// which x/sys/unix does not expose.
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// isWhiteout reports whether st is an overlay whiteout: a character device
// with device number 0:0.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// fdWriter writes to a file descriptor with no os.File around it.
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(w), p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}
