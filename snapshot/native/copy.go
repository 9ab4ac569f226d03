package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

type inode struct{ dev, ino uint64 }

// copier copies one tree; links remembers the first copy of each inode that
// has several links, so the others become hardlinks to it.
type copier struct {
	ctx   context.Context
	links map[inode]string
}

// copyTree copies the tree at src into the existing directory dst, which
// takes src's owner, mode, xattrs and times. Symlinks are copied, never
// followed.
func copyTree(ctx context.Context, src, dst string) error {
	c := &copier{ctx: ctx, links: map[inode]string{}}
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := c.copyDir(src, dst); err != nil {
		return err
	}
	return c.meta(src, dst, &st)
}

func (c *copier) copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for _, e := range entries {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if err := c.copyEntry(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) copyEntry(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	fmtBits := st.Mode & unix.S_IFMT
	if fmtBits != unix.S_IFDIR && st.Nlink > 1 {
		id := inode{st.Dev, st.Ino}
		if first, ok := c.links[id]; ok {
			if err := os.Link(first, dst); err != nil {
				return fmt.Errorf("copy hardlink %s: %w", src, err)
			}
			return nil
		}
		c.links[id] = dst
	}
	var err error
	switch fmtBits {
	case unix.S_IFDIR:
		// Made writable for now; meta gives it its mode once it is filled.
		if err = os.Mkdir(dst, 0o700); err == nil {
			err = c.copyDir(src, dst)
		}
	case unix.S_IFREG:
		err = copyFile(src, dst)
	case unix.S_IFLNK:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	default:
		err = fmt.Errorf("unknown file type %#o", fmtBits)
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return c.meta(src, dst, &st)
}

// meta gives dst src's metadata. The order matters: chown clears set-id
// bits and file capabilities, so the xattrs and the mode follow it, and the
// times come last because the other steps change ctime and a directory's
// filling changes its mtime.
func (c *copier) meta(src, dst string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(dst, st.Mode&07777); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", dst, err)
	}
	return nil
}

func copyXattrs(src, dst string) error {
	size, err := unix.Llistxattr(src, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list xattrs of %s: %w", src, err)
		}
		return nil
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(src, buf); err != nil {
		return fmt.Errorf("list xattrs of %s: %w", src, err)
	}
	for _, name := range splitNames(buf[:size]) {
		vsize, err := unix.Lgetxattr(src, name, nil)
		if err != nil {
			return fmt.Errorf("get xattr %s of %s: %w", name, src, err)
		}
		val := make([]byte, vsize)
		if vsize, err = unix.Lgetxattr(src, name, val); err != nil {
			return fmt.Errorf("get xattr %s of %s: %w", name, src, err)
		}
		if err := unix.Lsetxattr(dst, name, val[:vsize], 0); err != nil {
			return fmt.Errorf("set xattr %s of %s: %w", name, dst, err)
		}
	}
	return nil
}

// splitNames splits llistxattr's NUL-terminated list.
func splitNames(b []byte) []string {
	var names []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				names = append(names, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return names
}

// copyFile copies a regular file's data: a reflink where the filesystem
// shares blocks (btrfs, xfs), else copy_file_range in the kernel, else read
// and write.
func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if err := copyData(in, out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyData(in, out *os.File) error {
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return nil
	}
	for {
		n, err := unix.CopyFileRange(int(in.Fd()), nil, int(out.Fd()), nil, 1<<30, 0)
		if err != nil {
			if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
				break // fall back to a userspace copy from where it stopped
			}
			return err
		}
		if n == 0 {
			return nil
		}
	}
	_, err := io.Copy(out, in)
	return err
}
