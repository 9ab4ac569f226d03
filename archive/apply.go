package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// WhiteoutMode says what Apply does with a layer's whiteouts.
type WhiteoutMode int

const (
	// Overlay turns whiteouts into overlayfs ones: .wh.NAME becomes a
	// character device 0:0 named NAME, and .wh..wh..opq sets
	// trusted.overlay.opaque="y" on its directory. The directory is an
	// overlay upper directory, empty when Apply starts.
	Overlay WhiteoutMode = iota
	// Delete applies whiteouts by removing what they name. The directory
	// holds a copy of the parent layers (a copying snapshotter).
	Delete
	// Plain is no layer at all: the tar is a set of files (docker cp), a
	// ".wh." name is an ordinary file, and a "./" entry leaves the
	// directory's own owner, mode and times alone.
	Plain
)

func (m WhiteoutMode) String() string {
	switch m {
	case Overlay:
		return "overlay"
	case Delete:
		return "delete"
	case Plain:
		return "plain"
	}
	return fmt.Sprintf("WhiteoutMode(%d)", int(m))
}

// ApplyOptions tune Apply. The zero value applies a layer to an overlay
// upper directory, keeping owners.
type ApplyOptions struct {
	Whiteouts WhiteoutMode
	// NoSameOwner leaves every entry owned by the caller instead of the
	// owner the layer names (tests, and callers without CAP_CHOWN).
	NoSameOwner bool
	// Owner, when set, owns every entry instead of the owner the tar
	// names (docker cp --archive into a container with a user).
	Owner *Owner
	// NoReplaceDirKind refuses to replace a directory with a
	// non-directory or a non-directory with a directory (the Engine API's
	// noOverwriteDirNonDir); the error is errdefs.ErrInvalidArgument.
	NoReplaceDirKind bool
}

// Owner is a numeric user and group.
type Owner struct{ UID, GID int }

// Stats describes an applied layer.
type Stats struct {
	// Size counts the bytes read from the tar stream, padding and trailer
	// included: the size of the uncompressed layer.
	Size int64
	// Entries counts the tar entries, whiteouts included.
	Entries int
}

// copyBufSize is the size of the buffer file data is copied through.
const copyBufSize = 1 << 20

// bufPool recycles copy buffers across Apply, Diff and Tar calls, which run
// concurrently for the layers of a pull. It is a cache with no observable
// state, the one package-level variable.
var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Apply unpacks the uncompressed layer tar r into dir. Whiteouts are handled
// as opts.Whiteouts says. Nothing outside dir is created, changed or
// followed, whatever the layer holds; an entry that would need to (a name or
// hard link climbing out of the root) is an error. On error dir holds part
// of the layer and should be discarded. After the tar's end the rest of r is
// read, so a digest computed while reading covers the whole stream.
//
// Apply does not sync what it wrote: the caller syncs the filesystem once
// before it records the layer as complete.
func Apply(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (Stats, error) {
	var stats Stats
	if opts.Whiteouts != Overlay && opts.Whiteouts != Delete && opts.Whiteouts != Plain {
		return stats, fmt.Errorf("apply layer to %s: whiteout mode %v: %w", dir, opts.Whiteouts, errdefs.ErrInvalidArgument)
	}
	rt, err := openRoot(dir)
	if err != nil {
		return stats, fmt.Errorf("apply layer: %w", err)
	}
	bufp := bufPool.Get().(*[]byte)
	a := &applier{
		root:    rt,
		opts:    opts,
		buf:     *bufp,
		dirTime: make(map[string][2]unix.Timespec),
	}
	defer func() {
		rt.close()
		bufPool.Put(bufp)
	}()
	if opts.Whiteouts == Delete {
		a.created = make(map[string]struct{})
	}
	cr := &countReader{r: r}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return stats, fmt.Errorf("apply layer to %s: %w", dir, err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			stats.Size = cr.n
			return stats, fmt.Errorf("apply layer to %s: read entry %d: %w", dir, stats.Entries+1, err)
		}
		stats.Entries++
		err = a.entry(hdr, tr)
		rt.release()
		if err != nil {
			stats.Size = cr.n
			return stats, fmt.Errorf("apply layer to %s: entry %q: %w", dir, hdr.Name, err)
		}
	}
	if err := a.setDirTimes(); err != nil {
		return stats, fmt.Errorf("apply layer to %s: %w", dir, err)
	}
	if _, err := io.CopyBuffer(io.Discard, cr, a.buf); err != nil {
		return stats, fmt.Errorf("apply layer to %s: read past the tar's end: %w", dir, err)
	}
	stats.Size = cr.n
	return stats, nil
}

// applier holds the state of one Apply.
type applier struct {
	root *root
	opts ApplyOptions
	buf  []byte
	// dirTime holds the times of directories, set once all entries are in
	// place since creating an entry changes its directory's mtime.
	dirTime map[string][2]unix.Timespec
	// created holds the names this layer put in place (Delete mode), which
	// its own whiteouts must spare.
	created map[string]struct{}
}

// entry applies one tar entry.
func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // global PAX records carry nothing Apply uses
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := splitName(name)
	plain := a.opts.Whiteouts == Plain
	if aufs, bad := whiteoutDir(dir); aufs && !plain {
		return nil // AUFS metadata (hard link directory): not part of the tree
	} else if bad && !plain {
		return fmt.Errorf("whiteout name used as a directory: %w", errdefs.ErrInvalidArgument)
	}
	if strings.HasPrefix(base, whiteoutPrefix) && !plain {
		return a.whiteout(dir, base)
	}
	if err := checkHeader(hdr); err != nil {
		return err
	}
	if o := a.opts.Owner; o != nil {
		hdr.Uid, hdr.Gid = o.UID, o.GID
	}
	if name == "." && plain {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("the target directory as a %s: %w", typeName(hdr.Typeflag), errdefs.ErrInvalidArgument)
		}
		return nil
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("the layer root as a %s: %w", typeName(hdr.Typeflag), errdefs.ErrInvalidArgument)
		}
		return a.rootDir(hdr)
	}
	pfd, err := a.root.dirInRoot(dir, true, a.madeDir)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont:
		err = a.file(pfd, base, hdr, r)
	case tar.TypeDir:
		err = a.dir(pfd, name, base, hdr)
	case tar.TypeSymlink:
		err = a.symlink(pfd, base, hdr)
	case tar.TypeLink:
		err = a.hardlink(pfd, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		err = a.node(pfd, base, hdr)
	default:
		return fmt.Errorf("entry type %q: %w", hdr.Typeflag, errdefs.ErrNotImplemented)
	}
	if err != nil {
		return err
	}
	if a.created != nil {
		a.created[name] = struct{}{}
	}
	return nil
}

// madeDir records a parent directory Apply had to create.
func (a *applier) madeDir(name string, _ int) error {
	if a.created != nil {
		a.created[name] = struct{}{}
	}
	return nil
}

// checkHeader refuses header fields that no real layer has and that the
// kernel would take for something else (an owner of -1 means "unchanged").
func checkHeader(hdr *tar.Header) error {
	const maxID = 1<<32 - 2
	switch {
	case hdr.Uid < 0 || hdr.Uid > maxID || hdr.Gid < 0 || hdr.Gid > maxID:
		return fmt.Errorf("owner %d:%d out of range: %w", hdr.Uid, hdr.Gid, errdefs.ErrInvalidArgument)
	case hdr.Devmajor < 0 || hdr.Devmajor > 1<<32-1 || hdr.Devminor < 0 || hdr.Devminor > 1<<32-1:
		return fmt.Errorf("device %d:%d out of range: %w", hdr.Devmajor, hdr.Devminor, errdefs.ErrInvalidArgument)
	case hdr.Typeflag == tar.TypeGNUSparse || sparsePAX(hdr):
		// A sparse entry may declare any logical size over a few bytes of
		// data; the spec says layers should not use them, and no image
		// builder writes them.
		return fmt.Errorf("sparse file: %w", errdefs.ErrNotImplemented)
	case (hdr.Typeflag == tar.TypeLink || hdr.Typeflag == tar.TypeSymlink) && strings.IndexByte(hdr.Linkname, 0) >= 0:
		return fmt.Errorf("link target holds a NUL byte: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

func sparsePAX(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("entry of type %q", t)
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
