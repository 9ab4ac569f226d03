package storage

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
)

// Common is what every snapshotter on this storage does the same way; a
// snapshotter embeds it and adds Prepare, Commit and Features, which are
// where overlay and native differ, and says how its snapshots mount.
type Common struct {
	St *Store
	// MountsOf returns the mounts of an active snapshot or a view, given
	// its record and its parents' ids, nearest first.
	MountsOf func(r Record, parents []uint64) []mount.Mount
}

func (c Common) Stat(ctx context.Context, key string) (snapshot.Info, error) {
	return c.St.Stat(ctx, key)
}

func (c Common) View(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error) {
	r, parents, err := c.St.Create(ctx, snapshot.KindView, key, parent, snapshot.NewOptions(opts...), nil)
	if err != nil {
		return nil, err
	}
	return c.MountsOf(r, parents), nil
}

func (c Common) Mounts(ctx context.Context, key string) ([]mount.Mount, error) {
	r, parents, err := c.St.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("mounts of snapshot %s: %w", key, err)
	}
	if r.Kind == snapshot.KindCommitted {
		return nil, fmt.Errorf("mounts of snapshot %s: committed snapshots are mounted through a view: %w", key, errdefs.ErrFailedPrecondition)
	}
	return c.MountsOf(r, parents), nil
}

func (c Common) Remove(ctx context.Context, key string) error { return c.St.Remove(ctx, key) }

func (c Common) Walk(ctx context.Context, fn func(snapshot.Info) error) error {
	return c.St.Walk(ctx, fn)
}

func (c Common) Usage(ctx context.Context, key string) (snapshot.Usage, error) {
	return c.St.Usage(ctx, key)
}

func (c Common) Orphans(ctx context.Context) ([]string, error) { return c.St.Orphans(ctx) }

func (c Common) Cleanup(ctx context.Context) ([]string, error) { return c.St.Cleanup(ctx) }

// Close releases nothing: the database belongs to the caller.
func (c Common) Close() error { return nil }
