package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/berth-dev/berth/internal/mount"
	bolt "go.etcd.io/bbolt"
)

// track keeps dir (a path in R/snapshots) from Orphans while an operation
// works on it; untrack releases it.
func (s *Store) track(dir string) {
	s.mu.Lock()
	s.building[filepath.Base(dir)] = true
	s.mu.Unlock()
}

func (s *Store) untrack(dir string) {
	s.mu.Lock()
	delete(s.building, filepath.Base(dir))
	s.mu.Unlock()
}

// Orphans lists the entries of R/snapshots that no record names and no
// operation of this store is working on: what a crash left behind.
func (s *Store) Orphans(ctx context.Context) ([]string, error) {
	used := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		keys, _ := s.buckets(tx)
		return keys.ForEach(func(k, _ []byte) error {
			r, err := getRecord(keys, string(k))
			if err != nil {
				return err
			}
			used[strconv.FormatUint(r.ID, 10)] = true
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list orphan snapshots: %w", err)
	}
	// Listed after the records: a directory claimed since then is tracked.
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list orphan snapshots: %w", err)
	}
	var out []string
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if !used[e.Name()] && !s.building[e.Name()] {
			out = append(out, filepath.Join(s.dir, e.Name()))
		}
	}
	return out, nil
}

// Cleanup removes the orphans and returns the paths it removed. One that
// cannot be removed (something is mounted inside it) is left for a later
// run, and the error says which.
func (s *Store) Cleanup(ctx context.Context) ([]string, error) {
	orphans, err := s.Orphans(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range orphans {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		s.track(p)
		err := removeDir(p)
		s.untrack(p)
		if err != nil {
			return removed, fmt.Errorf("clean up snapshots: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// removeDir deletes a snapshot directory, refusing when anything is mounted
// inside it: RemoveAll would descend into the mount and delete what it shows.
func removeDir(dir string) error {
	mps, err := mount.Under(dir)
	if err != nil {
		return err
	}
	if len(mps) > 0 {
		return fmt.Errorf("remove %s: %s is mounted inside it", dir, mps[0])
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
