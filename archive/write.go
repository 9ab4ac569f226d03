package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// Tar writes the tree below dir to w as an uncompressed tar stream, for
// export and copying out of containers. dir itself is not an entry. The
// stream is deterministic for a given tree: entries in byte order of their
// names, each directory before its content; owners as numbers only (a
// container's names mean nothing on the host); times to the second, no
// access or change times; extended attributes as SCHILY.xattr PAX records;
// a non-directory with several links as one entry plus hard links to its
// first name. Sockets are left out, as tar cannot hold them. Symlinks are
// stored, never followed.
func Tar(ctx context.Context, w io.Writer, dir string) error {
	if err := writeTree(ctx, w, dir, false, nil); err != nil {
		return fmt.Errorf("tar %s: %w", dir, err)
	}
	return nil
}

// Diff writes the overlay upper directory upper to w as a layer tar
// stream, as Tar does, except that overlay whiteouts (character devices
// 0:0) become ".wh.NAME" entries, listed before their siblings as the image
// spec advises, and a directory with trusted.overlay.opaque="y" is followed
// by a ".wh..wh..opq" entry. overlayfs' own attributes are not copied. An
// upper directory written with redirect_dir or metacopy cannot be expressed
// as a layer from itself alone, and is an error (errdefs.ErrNotImplemented).
func Diff(ctx context.Context, w io.Writer, upper string) error {
	return DiffWith(ctx, w, upper, DiffOptions{})
}

// DiffOptions tune DiffWith.
type DiffOptions struct {
	// Exclude leaves out the entries for which it returns true, given
	// the entry's clean name relative to the upper directory
	// ("etc/hosts"), with everything below them and their whiteouts:
	// a container's mount points, which are not part of its changes.
	Exclude func(name string) bool
}

// DiffWith is Diff with options.
func DiffWith(ctx context.Context, w io.Writer, upper string, opts DiffOptions) error {
	if err := writeTree(ctx, w, upper, true, opts.Exclude); err != nil {
		return fmt.Errorf("diff %s: %w", upper, err)
	}
	return nil
}

// treeWriter holds the state of one Tar or Diff.
type treeWriter struct {
	ctx     context.Context
	tw      *tar.Writer
	overlay bool
	exclude func(name string) bool
	links   map[devIno]string
	buf     []byte // file data
	xbuf    []byte // attribute names and values, link targets
}

type devIno struct{ dev, ino uint64 }

type child struct {
	name string
	st   unix.Stat_t
	// as, when set, is the entry's name in the stream instead of name.
	as string
}

func newTreeWriter(ctx context.Context, w io.Writer, overlay bool) (*treeWriter, func()) {
	bufp := bufPool.Get().(*[]byte)
	return &treeWriter{
		ctx:     ctx,
		tw:      tar.NewWriter(w),
		overlay: overlay,
		links:   make(map[devIno]string),
		buf:     *bufp,
		xbuf:    make([]byte, 4096),
	}, func() { bufPool.Put(bufp) }
}

func writeTree(ctx context.Context, w io.Writer, dir string, overlay bool, exclude func(string) bool) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	t, done := newTreeWriter(ctx, w, overlay)
	defer done()
	t.exclude = exclude
	if overlay {
		opaque, err := t.opaque(fd, "")
		if err != nil {
			unix.Close(fd)
			return err
		}
		if opaque {
			if err := t.tw.WriteHeader(whiteoutHeader(whiteoutOpaque, &unix.Stat_t{})); err != nil {
				unix.Close(fd)
				return err
			}
		}
	}
	if err := t.walk(fd, ""); err != nil {
		return err
	}
	return t.tw.Close()
}

// walk writes the entries of the directory fd, whose name in the stream is
// prefix, and closes fd.
func (t *treeWriter) walk(fd int, prefix string) error {
	f := os.NewFile(uintptr(fd), prefix)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read directory %q: %w", prefix, err)
	}
	slices.Sort(names)
	children := make([]child, len(names))
	for i, n := range names {
		children[i].name = n
		if err := unix.Fstatat(fd, n, &children[i].st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %q: %w", prefix+n, err)
		}
	}
	if t.overlay {
		// Whiteouts first, each group in name order.
		slices.SortStableFunc(children, func(a, b child) int {
			wa, wb := isWhiteout(&a.st), isWhiteout(&b.st)
			switch {
			case wa && !wb:
				return -1
			case wb && !wa:
				return 1
			}
			return 0
		})
	}
	for i := range children {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		if err := t.entry(fd, prefix, &children[i]); err != nil {
			return err
		}
	}
	return nil
}

// entry writes one entry of the directory dfd, and its content.
func (t *treeWriter) entry(dfd int, prefix string, c *child) error {
	st := &c.st
	name := prefix + c.name
	if t.exclude != nil && t.exclude(name) {
		return nil
	}
	if c.as != "" {
		name = prefix + c.as
	}
	if t.overlay && isWhiteout(st) {
		return t.tw.WriteHeader(whiteoutHeader(prefix+whiteoutPrefix+c.name, st))
	}
	kind := st.Mode & unix.S_IFMT
	if kind == unix.S_IFSOCK {
		return nil
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, 0),
	}
	if kind != unix.S_IFDIR && st.Nlink > 1 {
		key := devIno{uint64(st.Dev), st.Ino}
		if first, ok := t.links[key]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = first
			return t.tw.WriteHeader(hdr)
		}
		t.links[key] = name
	}
	opaque, err := t.xattrs(dfd, c.name, hdr)
	if err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	switch kind {
	case unix.S_IFREG:
		return t.file(dfd, c.name, hdr, st)
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if opaque {
			if err := t.tw.WriteHeader(whiteoutHeader(hdr.Name+whiteoutOpaque, st)); err != nil {
				return err
			}
		}
		fd, err := unix.Openat(dfd, c.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open directory %q: %w", name, err)
		}
		return t.walk(fd, hdr.Name)
	case unix.S_IFLNK:
		n, err := unix.Readlinkat(dfd, c.name, t.xbuf)
		if err != nil {
			return fmt.Errorf("read symlink %q: %w", name, err)
		}
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = string(t.xbuf[:n])
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if kind == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor = int64(unix.Major(st.Rdev))
		hdr.Devminor = int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return fmt.Errorf("%q: file type %#o: %w", name, kind, errdefs.ErrNotImplemented)
	}
	return t.tw.WriteHeader(hdr)
}

// file writes a regular file's header and data. The file is opened without
// following a symlink, and its size is taken from the open file; a file
// that shrinks while it is read is an error.
func (t *treeWriter) file(dfd int, base string, hdr *tar.Header, st *unix.Stat_t) error {
	hdr.Typeflag = tar.TypeReg
	if st.Size == 0 {
		return t.tw.WriteHeader(hdr)
	}
	fd, err := unix.Openat(dfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %q: %w", hdr.Name, err)
	}
	defer unix.Close(fd)
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		return fmt.Errorf("stat %q: %w", hdr.Name, err)
	}
	if fst.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%q is no longer a regular file: %w", hdr.Name, errdefs.ErrAborted)
	}
	hdr.Size = fst.Size
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(t.tw, io.LimitReader(fdReader(fd), hdr.Size), t.buf)
	if err != nil {
		return fmt.Errorf("copy %q: %w", hdr.Name, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("%q shrank from %d to %d bytes while read: %w", hdr.Name, hdr.Size, n, errdefs.ErrAborted)
	}
	return nil
}

// xattrs adds an entry's extended attributes to its header as PAX records
// and reports whether it is an opaque overlay directory.
func (t *treeWriter) xattrs(dfd int, base string, hdr *tar.Header) (opaque bool, err error) {
	attrs, err := listXattrs(dfd, base, &t.xbuf)
	if err != nil {
		return false, fmt.Errorf("list xattrs: %w", err)
	}
	for _, kv := range attrs {
		if overlayXattr(kv[0]) {
			if !t.overlay {
				continue
			}
			switch kv[0] {
			case overlayOpaque:
				opaque = kv[1] == "y"
			case overlayRedirect, overlayMetacopy:
				return false, fmt.Errorf("upper entry has %s (mount overlay without redirect_dir and metacopy): %w", kv[0], errdefs.ErrNotImplemented)
			}
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = make(map[string]string, len(attrs))
		}
		hdr.PAXRecords[paxXattr+kv[0]] = kv[1]
	}
	return opaque, nil
}

// opaque reports whether the directory dfd (base "") or its entry base is
// an opaque overlay directory.
func (t *treeWriter) opaque(dfd int, base string) (bool, error) {
	attrs, err := listXattrs(dfd, base, &t.xbuf)
	if err != nil {
		return false, fmt.Errorf("list xattrs: %w", err)
	}
	for _, kv := range attrs {
		if kv[0] == overlayOpaque && kv[1] == "y" {
			return true, nil
		}
	}
	return false, nil
}

// whiteoutHeader is the header of a whiteout entry: an empty regular file
// with the owner, mode and mtime of what it stands for.
func whiteoutHeader(name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     int64(st.Mode & 0o777),
		Uid:      int(st.Uid),
		Gid:      int(st.Gid),
		ModTime:  time.Unix(st.Mtim.Sec, 0),
	}
}

// fdReader reads from a file descriptor with no os.File around it (whose
// WriteTo would bypass the pooled buffer).
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}
