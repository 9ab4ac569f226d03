package native

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/storage"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Bucket is the top-level bbolt bucket of the native snapshotter's records.
const Bucket = "snapshots/native"

// Snapshotter keeps snapshots as full copies under root/snapshots.
type Snapshotter struct {
	st *storage.Store
}

var (
	_ snapshot.Snapshotter = (*Snapshotter)(nil)
	_ snapshot.Cleaner     = (*Snapshotter)(nil)
)

// New opens the native snapshotter at root, keeping its records in db
// (which the caller owns). root must be used by this snapshotter alone.
func New(root string, db *bolt.DB) (*Snapshotter, error) {
	st, err := storage.Open(root, db, Bucket)
	if err != nil {
		return nil, err
	}
	return &Snapshotter{st: st}, nil
}

// Features: neither overlay whiteouts nor rebase.
func (s *Snapshotter) Features() snapshot.Features { return snapshot.Features{} }

func (s *Snapshotter) Stat(ctx context.Context, key string) (snapshot.Info, error) {
	return s.st.Stat(ctx, key)
}

func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error) {
	fill := func(ctx context.Context, fs string, parents []uint64) error {
		if len(parents) == 0 {
			return nil
		}
		return copyTree(ctx, s.st.FS(parents[0]), fs)
	}
	r, parents, err := s.st.Create(ctx, snapshot.KindActive, key, parent, snapshot.NewOptions(opts...), fill)
	if err != nil {
		return nil, err
	}
	return s.mounts(r, parents), nil
}

func (s *Snapshotter) View(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error) {
	r, parents, err := s.st.Create(ctx, snapshot.KindView, key, parent, snapshot.NewOptions(opts...), nil)
	if err != nil {
		return nil, err
	}
	return s.mounts(r, parents), nil
}

func (s *Snapshotter) Mounts(ctx context.Context, key string) ([]mount.Mount, error) {
	r, parents, err := s.st.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("mounts of snapshot %s: %w", key, err)
	}
	if r.Kind == snapshot.KindCommitted {
		return nil, fmt.Errorf("mounts of snapshot %s: committed snapshots are mounted through a view: %w", key, errdefs.ErrFailedPrecondition)
	}
	return s.mounts(r, parents), nil
}

// Commit refuses WithParent naming a parent other than the prepared one
// (errdefs.ErrNotImplemented): the tree already holds the prepared parent.
func (s *Snapshotter) Commit(ctx context.Context, name, key string, opts ...snapshot.Opt) error {
	return s.st.Commit(ctx, name, key, snapshot.NewOptions(opts...), false)
}

func (s *Snapshotter) Remove(ctx context.Context, key string) error { return s.st.Remove(ctx, key) }

func (s *Snapshotter) Walk(ctx context.Context, fn func(snapshot.Info) error) error {
	return s.st.Walk(ctx, fn)
}

// Usage measures the snapshot's own tree, which for native includes what
// it copied from its parent.
func (s *Snapshotter) Usage(ctx context.Context, key string) (snapshot.Usage, error) {
	return s.st.Usage(ctx, key)
}

func (s *Snapshotter) Orphans(ctx context.Context) ([]string, error) { return s.st.Orphans(ctx) }

func (s *Snapshotter) Cleanup(ctx context.Context) ([]string, error) { return s.st.Cleanup(ctx) }

// Close releases nothing: the database belongs to the caller.
func (s *Snapshotter) Close() error { return nil }

func (s *Snapshotter) mounts(r storage.Record, parents []uint64) []mount.Mount {
	switch {
	case r.Kind == snapshot.KindActive:
		return []mount.Mount{{Type: "bind", Source: s.st.FS(r.ID), Options: []string{"rbind", "rw"}}}
	case len(parents) > 0:
		return []mount.Mount{{Type: "bind", Source: s.st.FS(parents[0]), Options: []string{"rbind", "ro"}}}
	default:
		return []mount.Mount{{Type: "bind", Source: s.st.FS(r.ID), Options: []string{"rbind", "ro"}}}
	}
}
