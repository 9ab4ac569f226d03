package storage

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"time"

	"github.com/berth-dev/berth/snapshot"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Commit turns the active snapshot key into the committed snapshot name,
// keeping its directory. With o.HasParent, the committed parent is o.Parent;
// a parent other than the prepared one needs rebase, or the commit fails
// with ErrNotImplemented.
func (s *Store) Commit(ctx context.Context, name, key string, o snapshot.Options, rebase bool) error {
	if err := checkKey(name); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		keys, children := s.buckets(tx)
		r, err := getRecord(keys, key)
		if err != nil {
			return err
		}
		if r.Kind != snapshot.KindActive {
			return fmt.Errorf("%s is %s, not active: %w", key, r.Kind, errdefs.ErrFailedPrecondition)
		}
		if keys.Get([]byte(name)) != nil {
			return fmt.Errorf("name in use: %w", errdefs.ErrAlreadyExists)
		}
		parent := r.Parent
		if o.HasParent && o.Parent != r.Parent {
			if !rebase {
				return fmt.Errorf("rebase from parent %q to %q: %w", r.Parent, o.Parent, errdefs.ErrNotImplemented)
			}
			if _, err := chain(keys, o.Parent); err != nil {
				return err
			}
			parent = o.Parent
		}
		now := time.Now().UTC()
		c := Record{ID: r.ID, Kind: snapshot.KindCommitted, Parent: parent, Labels: maps.Clone(o.Labels), Created: now, Updated: now}
		if err := keys.Delete([]byte(key)); err != nil {
			return err
		}
		if r.Parent != "" {
			if err := children.Delete(childKey(r.Parent, key)); err != nil {
				return err
			}
		}
		if parent != "" {
			if err := children.Put(childKey(parent, name), nil); err != nil {
				return err
			}
		}
		return putRecord(keys, name, c)
	})
	if err != nil {
		return fmt.Errorf("commit snapshot %s as %s: %w", key, name, err)
	}
	return nil
}

// Remove deletes key's record and then its directory. A snapshot that is
// the parent of another is refused with ErrFailedPrecondition.
func (s *Store) Remove(ctx context.Context, key string) error {
	var r Record
	err := s.db.Update(func(tx *bolt.Tx) error {
		keys, children := s.buckets(tx)
		var err error
		if r, err = getRecord(keys, key); err != nil {
			return err
		}
		prefix := childKey(key, "")
		if k, _ := children.Cursor().Seek(prefix); k != nil && len(k) > len(prefix) && string(k[:len(prefix)]) == string(prefix) {
			return fmt.Errorf("%s is the parent of %s: %w", key, k[len(prefix):], errdefs.ErrFailedPrecondition)
		}
		if r.Parent != "" {
			if err := children.Delete(childKey(r.Parent, key)); err != nil {
				return err
			}
		}
		return keys.Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	// Past the commit point the snapshot is gone; a directory that cannot be
	// deleted now is an orphan for Cleanup, and worth a log line, not an error.
	dir := s.Dir(r.ID)
	aside, err := os.MkdirTemp(s.dir, "rm-")
	if err == nil {
		s.track(aside)
		if err = os.Rename(dir, aside+"/stale"); err == nil {
			err = removeDir(aside)
		}
		s.untrack(aside)
	}
	if err != nil {
		slog.WarnContext(ctx, "remove snapshot directory", "path", dir, "err", err)
	}
	return nil
}
