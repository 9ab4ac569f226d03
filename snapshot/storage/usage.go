package storage

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/berth-dev/berth/snapshot"
)

// Usage measures key's own directory.
func (s *Store) Usage(ctx context.Context, key string) (snapshot.Usage, error) {
	r, _, err := s.Get(ctx, key)
	if err != nil {
		return snapshot.Usage{}, fmt.Errorf("usage of snapshot %s: %w", key, err)
	}
	u, err := DiskUsage(ctx, s.FS(r.ID))
	if err != nil {
		return snapshot.Usage{}, fmt.Errorf("usage of snapshot %s: %w", key, err)
	}
	return u, nil
}

// DiskUsage adds up the blocks allocated to the tree at root (st_blocks ×
// 512, so sparse files and holes count as what they take) and counts its
// inodes; an inode with several hardlinks inside the tree counts once.
// Symlinks are not followed.
func DiskUsage(ctx context.Context, root string) (snapshot.Usage, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var u snapshot.Usage
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("stat %s: no inode data", path)
		}
		if st.Nlink > 1 && !d.IsDir() {
			id := inode{uint64(st.Dev), st.Ino}
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		u.Inodes++
		u.Size += st.Blocks * 512
		return nil
	})
	if err != nil {
		return snapshot.Usage{}, err
	}
	return u, nil
}
