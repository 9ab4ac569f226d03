package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/snapshot"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Populate fills a new snapshot's fs directory before it is recorded;
// parents are the ids of its parents, nearest first.
type Populate func(ctx context.Context, fs string, parents []uint64) error

// Create records a new active snapshot or view named key on top of parent
// and returns its record and parent ids. The directory is built (and
// populate, when not nil, run) outside any transaction, so a long copy does
// not hold the daemon's database; the write transaction then checks again
// that key is free and parent unchanged, renames the directory into place
// and records it.
func (s *Store) Create(ctx context.Context, kind snapshot.Kind, key, parent string, o snapshot.Options, populate Populate) (Record, []uint64, error) {
	if err := checkKey(key); err != nil {
		return Record{}, nil, err
	}
	if kind != snapshot.KindActive && kind != snapshot.KindView {
		return Record{}, nil, fmt.Errorf("create snapshot %s of kind %s: %w", key, kind, errdefs.ErrInvalidArgument)
	}
	fail := func(err error) (Record, []uint64, error) {
		return Record{}, nil, fmt.Errorf("create snapshot %s: %w", key, err)
	}
	// 1. Fail fast on a used key or a bad parent, before any disk work.
	parents, err := s.checkNew(key, parent)
	if err != nil {
		return fail(err)
	}
	// 2. Build the directory under a temporary name.
	var r Record
	tmp, err := s.newTemp(ctx, parents, populate)
	if err != nil {
		return fail(err)
	}
	defer s.doneTemp(tmp)
	defer func() { s.untrack(s.Dir(r.ID)) }()

	// 3. Record it, renaming the directory into place inside the transaction.
	now := time.Now().UTC()
	r = Record{Kind: kind, Parent: parent, Labels: maps.Clone(o.Labels), Created: now, Updated: now}
	renamed := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		again, err := s.checkNewTx(tx, key, parent)
		if err != nil {
			return err
		}
		if !slices.Equal(again, parents) {
			return fmt.Errorf("parent %s changed while the snapshot was built: %w", parent, errdefs.ErrAborted)
		}
		keys, children := s.buckets(tx)
		if r.ID, err = tx.Bucket(s.bucket).NextSequence(); err != nil {
			return err
		}
		if err := s.claim(tmp, r.ID); err != nil {
			return err
		}
		renamed = true
		if err := putRecord(keys, key, r); err != nil {
			return err
		}
		if parent != "" {
			return children.Put(childKey(parent, key), nil)
		}
		return nil
	})
	if err != nil {
		if renamed {
			// The transaction did not commit, so no record names the id.
			err = errors.Join(err, os.Rename(s.Dir(r.ID), tmp))
		}
		return fail(err)
	}
	return r, parents, nil
}

func (s *Store) checkNew(key, parent string) (parents []uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		parents, err = s.checkNewTx(tx, key, parent)
		return err
	})
	return parents, err
}

func (s *Store) checkNewTx(tx *bolt.Tx, key, parent string) ([]uint64, error) {
	keys, _ := s.buckets(tx)
	if keys.Get([]byte(key)) != nil {
		return nil, fmt.Errorf("key in use: %w", errdefs.ErrAlreadyExists)
	}
	return chain(keys, parent)
}

// newTemp makes R/snapshots/new-*/{fs,work} and fills fs.
func (s *Store) newTemp(ctx context.Context, parents []uint64, populate Populate) (dir string, err error) {
	s.mu.Lock()
	dir, err = os.MkdirTemp(s.dir, "new-")
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.track(dir)
	defer func() {
		if err != nil {
			s.doneTemp(dir)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "fs"), 0o755); err != nil {
		return dir, err
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		return dir, err
	}
	if populate != nil {
		if err := populate(ctx, filepath.Join(dir, "fs"), parents); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// doneTemp forgets a temporary directory and deletes it if it is still there
// (that is, was not renamed into place).
func (s *Store) doneTemp(dir string) {
	if _, err := os.Lstat(dir); err == nil {
		_ = removeDir(dir) // Cleanup retries what this leaves
	}
	s.untrack(dir)
}

// claim renames tmp to id's directory and makes the rename durable before
// the record can commit. A directory already at that id is an orphan (the
// id is fresh from the sequence; its previous holder never committed) and is
// moved aside for Cleanup.
func (s *Store) claim(tmp string, id uint64) error {
	final := s.Dir(id)
	s.track(final) // until Create returns: no record names it before the commit
	if _, err := os.Lstat(final); err == nil {
		aside, err := os.MkdirTemp(s.dir, "rm-")
		if err != nil {
			return err
		}
		if err := os.Rename(final, filepath.Join(aside, "stale")); err != nil {
			return fmt.Errorf("move aside stale %s: %w", final, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return fsutil.SyncDir(s.dir)
}
