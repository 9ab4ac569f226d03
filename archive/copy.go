package archive

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// TarEntry writes one entry of the directory dir to w as an uncompressed
// tar stream, named name in the stream, followed by everything below it
// when it is a directory: docker cp's copy-out, where the entry keeps the
// name the user asked for ("/etc/." streams as "./…", a symlink followed
// to its target keeps the link's name). base is a single name in dir, or
// "." for dir itself; it is not followed if it is a symlink. Entries are
// written as Tar writes them.
func TarEntry(ctx context.Context, w io.Writer, dir, base, name string) error {
	if base == "" || base == ".." || strings.Contains(base, "/") || name == "" {
		return fmt.Errorf("tar %s in %s as %s: %w", base, dir, name, errdefs.ErrInvalidArgument)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	t, done := newTreeWriter(ctx, w, false)
	defer done()
	c := child{name: base, as: name}
	if err := unix.Fstatat(fd, base, &c.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("tar %s: %w", name, &os.PathError{Op: "stat", Path: base, Err: err})
	}
	if err := t.entry(fd, "", &c); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	return t.tw.Close()
}
