package native

import (
	"context"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/storage"
	bolt "go.etcd.io/bbolt"
)

// Bucket is the top-level bbolt bucket of the native snapshotter's records.
const Bucket = "snapshots/native"

// Snapshotter keeps snapshots as full copies under root/snapshots.
type Snapshotter struct {
	storage.Common
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
	s := &Snapshotter{}
	s.Common = storage.Common{St: st, MountsOf: s.mounts}
	return s, nil
}

// Features: neither overlay whiteouts nor rebase.
func (s *Snapshotter) Features() snapshot.Features { return snapshot.Features{} }

func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error) {
	fill := func(ctx context.Context, fs string, parents []uint64) error {
		if len(parents) == 0 {
			return nil
		}
		return copyTree(ctx, s.St.FS(parents[0]), fs)
	}
	r, parents, err := s.St.Create(ctx, snapshot.KindActive, key, parent, snapshot.NewOptions(opts...), fill)
	if err != nil {
		return nil, err
	}
	return s.mounts(r, parents), nil
}

// Commit refuses WithParent naming a parent other than the prepared one
// (errdefs.ErrNotImplemented): the tree already holds the prepared parent.
func (s *Snapshotter) Commit(ctx context.Context, name, key string, opts ...snapshot.Opt) error {
	return s.St.Commit(ctx, name, key, snapshot.NewOptions(opts...), false)
}

func (s *Snapshotter) mounts(r storage.Record, parents []uint64) []mount.Mount {
	switch {
	case r.Kind == snapshot.KindActive:
		return []mount.Mount{{Type: "bind", Source: s.St.FS(r.ID), Options: []string{"rbind", "rw"}}}
	case len(parents) > 0:
		return []mount.Mount{{Type: "bind", Source: s.St.FS(parents[0]), Options: []string{"rbind", "ro"}}}
	default:
		return []mount.Mount{{Type: "bind", Source: s.St.FS(r.ID), Options: []string{"rbind", "ro"}}}
	}
}
