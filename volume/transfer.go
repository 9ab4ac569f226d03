package volume

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/internal/fsutil"
)

// exportUser is the pseudo container that holds a volume with driver
// options mounted while it is exported.
const exportUser = "berth-export"

// Export writes volume name to w in the export format (a berth
// extension: GET /volumes/{name}/export).
func (s *Service) Export(ctx context.Context, name string, w io.Writer) error {
	if err := s.claim(name, false); err != nil {
		return err
	}
	defer s.unclaim(name)
	dir, err := s.Mount(ctx, name, exportUser)
	if err != nil {
		return err
	}
	defer func() {
		if err := s.Unmount(context.WithoutCancel(ctx), name, exportUser); err != nil {
			s.log.Warn("unmount an exported volume", "volume", name, "error", err)
		}
	}()
	if err := writeArchive(ctx, w, dir); err != nil {
		return fmt.Errorf("export volume %s: %w", name, err)
	}
	return nil
}

// claim marks a volume busy for an import or export; an import also
// needs it unused, and a plain directory.
func (s *Service) claim(name string, importing bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.vols[name]
	switch {
	case r == nil:
		return notFound(name)
	case s.busy[name] != "":
		return errorf(errdefs.ErrConflict, "volume %s is being imported or exported", name)
	case importing && len(s.refs[name]) > 0:
		return s.removable(name)
	}
	if _, opts := r.mountSpec(); importing && opts {
		return errorf(errdefs.ErrNotImplemented, "import into volume %s: a volume with driver options (type, device, o) cannot be imported into", name)
	}
	s.busy[name] = "export"
	if importing {
		s.busy[name] = "import"
	}
	return nil
}

func (s *Service) unclaim(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, name)
}

// Import replaces the content of volume name, unused, with an export
// read from r (a berth extension: PUT /volumes/{name}/import). A volume
// that does not exist is created, and removed again if the import
// fails. The archive is unpacked into a directory beside the volume's
// data and verified before it takes the data's place: a bad archive
// leaves the volume unchanged, and the error names the file that failed.
func (s *Service) Import(ctx context.Context, name string, r io.Reader) (err error) {
	_, created, err := s.create(name, "", nil, nil)
	if err != nil {
		return err
	}
	if created {
		defer func() {
			if err != nil {
				if rerr := s.Remove(context.WithoutCancel(ctx), name, true); rerr != nil {
					s.log.Warn("remove a volume whose import failed", "volume", name, "error", rerr)
				}
			}
		}()
	}
	if err := s.claim(name, true); err != nil {
		return err
	}
	defer s.unclaim(name)
	tmp, err := os.MkdirTemp(s.volDir(name), "_import-")
	if err != nil {
		return fmt.Errorf("import volume %s: %w", name, err)
	}
	defer func() {
		if tmp != "" {
			if rerr := os.RemoveAll(tmp); rerr != nil {
				s.log.Warn("remove an import's directory", "path", tmp, "error", rerr)
			}
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("import volume %s: %w", name, err)
	}
	if err := unpack(ctx, tmp, r); err != nil {
		return fmt.Errorf("import volume %s: %w", name, err)
	}
	// Verified: the new data takes the old one's place.
	data := s.dataDir(name)
	old := filepath.Join(s.volDir(name), "_old")
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("import volume %s: %w", name, err)
	}
	if err := os.Rename(data, old); err != nil {
		return fmt.Errorf("import volume %s: %w", name, err)
	}
	if err := os.Rename(tmp, data); err != nil {
		return errors.Join(fmt.Errorf("import volume %s: %w", name, err), os.Rename(old, data))
	}
	tmp = ""
	if err := fsutil.SyncDir(s.volDir(name)); err != nil {
		s.log.Warn("sync a volume's directory after import", "volume", name, "error", err)
	}
	if err := os.RemoveAll(old); err != nil {
		s.log.Warn("remove a volume's data replaced by an import", "volume", name, "error", err)
	}
	return nil
}

// unpack decodes and verifies an export into dir, through archive.Apply
// (which keeps every write inside dir). The archive is a set of files,
// not a layer: a ".wh." name in a volume is a file like any other.
func unpack(ctx context.Context, dir string, r io.Reader) error {
	pr, pw := io.Pipe()
	applied := make(chan error, 1)
	go func() {
		_, err := archive.Apply(ctx, dir, pr, archive.ApplyOptions{Whiteouts: archive.Plain})
		pr.CloseWithError(err)
		applied <- err
	}()
	tw := tar.NewWriter(pw)
	var root *tar.Header
	err := readArchive(r, func(hdr *tar.Header, body io.Reader) error {
		if hdr.Name == "./" {
			h := *hdr
			root = &h
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if body != nil {
			_, err := io.Copy(tw, body)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	pw.CloseWithError(err)
	aerr := <-applied
	if aerr != nil && (err == nil || errors.Is(err, aerr)) {
		// The applier refused an entry (its write into the pipe then
		// failed with that refusal).
		return fmt.Errorf("%w: %w", aerr, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		// The decoder's error says what is wrong with the archive; the
		// applier then only saw a cut stream.
		return err
	}
	// Plain leaves the root alone: it takes the exported root's owner
	// and mode here.
	if root != nil {
		if err := unix.Lchown(dir, root.Uid, root.Gid); err != nil {
			return fmt.Errorf("volume root: %w", err)
		}
		if err := unix.Chmod(dir, uint32(root.Mode&0o7777)); err != nil {
			return fmt.Errorf("volume root: %w", err)
		}
	}
	return syncFS(dir)
}

// syncFS flushes the filesystem holding dir: archive.Apply leaves that
// to its caller, once.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
