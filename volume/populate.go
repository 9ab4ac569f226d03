package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/berth-dev/berth/archive"
)

// Populate copies the directory src (the image's content at the mount's
// destination, resolved by the caller inside the container's rootfs)
// into volume name if the volume is empty, as Docker does when an empty
// volume is first mounted over content: owners, modes, times and
// extended attributes come along. The volume must be mounted (Mount).
func (s *Service) Populate(ctx context.Context, name, src string) error {
	s.mu.Lock()
	r := s.vols[name]
	s.mu.Unlock()
	if r == nil {
		return notFound(name)
	}
	// One copy at a time: two containers starting on one new volume
	// must not both fill it.
	s.copyMu.Lock()
	defer s.copyMu.Unlock()
	dst := s.dataDir(name)
	empty, err := isEmptyDir(dst)
	if err != nil || !empty {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil // nothing there in the image: nothing to copy
	}
	if err := copyTree(ctx, src, dst); err != nil {
		return fmt.Errorf("copy %s into volume %s: %w", src, name, err)
	}
	// The volume's root takes the owner and mode of the directory it
	// covers.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("copy into volume %s: %w", name, err)
		}
	}
	if err := os.Chmod(dst, fi.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return fmt.Errorf("copy into volume %s: %w", name, err)
	}
	return nil
}

// copyTree copies the tree below src into dst as a tar stream between
// archive.Tar and archive.Apply: no symlink is followed, nothing lands
// outside dst.
func copyTree(ctx context.Context, src, dst string) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := archive.Tar(ctx, pw, src)
		pw.CloseWithError(err)
		done <- err
	}()
	_, aerr := archive.Apply(ctx, dst, pr, archive.ApplyOptions{Whiteouts: archive.Plain})
	pr.CloseWithError(errCopyEnded)
	terr := <-done
	switch {
	case terr != nil && aerr != nil && errors.Is(terr, errCopyEnded):
		return aerr // the apply failed first and cut the tar off
	case terr != nil && aerr != nil:
		return terr // the tar failed first and cut the apply off
	}
	return errors.Join(terr, aerr)
}

// errCopyEnded ends the tar side of a copy whose apply side stopped.
var errCopyEnded = errors.New("copy ended")

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, fmt.Errorf("open volume %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}
