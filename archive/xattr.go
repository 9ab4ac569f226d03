package archive

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// paxXattr prefixes the PAX records that carry extended attributes
// (the convention of star, GNU tar, libarchive and Go's archive/tar).
const paxXattr = "SCHILY.xattr."

// Overlay attributes (overlayfs(5)); with index and metacopy off, only
// opaque is used in an upper directory written by Apply.
const (
	overlayOpaque   = "trusted.overlay.opaque"
	overlayRedirect = "trusted.overlay.redirect"
	overlayMetacopy = "trusted.overlay.metacopy"
)

// overlayXattr reports whether an attribute belongs to overlayfs itself. A
// layer must not carry these: in an upper directory they would steer
// overlayfs (a redirect, a metacopy, an opaque flag the layer did not ask
// for with a whiteout), so Apply drops them and Diff never emits them.
func overlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

// fdPath names a descriptor through /proc, for the calls that take a path
// but no descriptor. With base it names an entry of the directory fd
// without following it when the call itself does not follow (lsetxattr,
// llistxattr, lgetxattr): this reaches symlinks and device nodes, which
// cannot be opened for fsetxattr.
func fdPath(fd int, base string) string {
	var b strings.Builder
	b.Grow(len("/proc/self/fd/") + 12 + len(base))
	b.WriteString("/proc/self/fd/")
	b.WriteString(strconv.Itoa(fd))
	if base != "" {
		b.WriteByte('/')
		b.WriteString(base)
	}
	return b.String()
}

// skipXattrErr reports whether failing to set an attribute is not an error:
// the filesystem has no attributes of that kind (ENOTSUP), or the attribute
// is a user.* one on an entry that the kernel refuses them on (symlinks,
// devices and fifos: EPERM).
func skipXattrErr(err error, name string, regularOrDir bool) bool {
	if err == unix.ENOTSUP || err == unix.EOPNOTSUPP {
		return true
	}
	return err == unix.EPERM && !regularOrDir && strings.HasPrefix(name, "user.")
}

// listXattrs returns the names and values of the attributes of the entry
// base in dirfd (base "" for dirfd itself), reusing buf. It never follows a
// symlink.
func listXattrs(dirfd int, base string, buf *[]byte) ([][2]string, error) {
	p := fdPath(dirfd, base)
	list := func(dst []byte) (int, error) {
		if base == "" {
			return unix.Listxattr(p, dst)
		}
		return unix.Llistxattr(p, dst)
	}
	get := func(name string, dst []byte) (int, error) {
		if base == "" {
			return unix.Getxattr(p, name, dst)
		}
		return unix.Lgetxattr(p, name, dst)
	}
	n, err := growCall(buf, list)
	if err != nil {
		if err == unix.ENOTSUP || err == unix.EOPNOTSUPP {
			return nil, nil
		}
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	names := strings.Split(strings.TrimSuffix(string((*buf)[:n]), "\x00"), "\x00")
	out := make([][2]string, 0, len(names))
	for _, name := range names {
		m, err := growCall(buf, func(dst []byte) (int, error) { return get(name, dst) })
		if err == unix.ENODATA {
			continue // removed since listed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{name, string((*buf)[:m])})
	}
	return out, nil
}

// growCall runs a size-returning attribute call, growing buf on ERANGE.
func growCall(buf *[]byte, call func([]byte) (int, error)) (int, error) {
	for {
		n, err := call(*buf)
		if err != unix.ERANGE {
			return n, err
		}
		size, err := call(nil)
		if err != nil {
			return 0, err
		}
		*buf = make([]byte, size+256)
	}
}
