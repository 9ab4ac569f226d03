package image

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/snapshot"
	bolt "go.etcd.io/bbolt"
)

// Service is berth's image side: the store of records, the content store
// of blobs, the snapshotter holding unpacked layers, and a registry
// client. berthd makes one and wires it in cmd/berthd.
type Service struct {
	Store    *Store
	content  *content.Store
	snap     snapshot.Snapshotter
	registry *registry.Client

	// gcLock keeps the collector out while anything is being added:
	// pulls, loads and imports hold it shared, GC exclusively.
	gcLock sync.RWMutex
}

// NewService wires an image service over one bbolt database.
func NewService(db *bolt.DB, cs *content.Store, snap snapshot.Snapshotter, reg *registry.Client) (*Service, error) {
	st, err := NewStore(db)
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	return &Service{Store: st, content: cs, snap: snap, registry: reg}, nil
}

// Recover forgets what operations of an earlier process left unfinished:
// berthd calls it at start, when nothing can be in progress. Their leases
// go, and with them the protection of their staging snapshots, which are
// removed; partial downloads stay in the content store, for the next pull
// to resume.
func (s *Service) Recover(ctx context.Context) error {
	s.gcLock.Lock()
	defer s.gcLock.Unlock()
	if err := s.Store.dropLeases(ctx); err != nil {
		return err
	}
	infos, err := s.walkSnapshots(ctx)
	if err != nil {
		return err
	}
	for _, info := range infos {
		if info.Kind != snapshot.KindCommitted && info.Labels[labelStaging] != "" {
			if err := s.snap.Remove(ctx, info.Name); err != nil && !errdefs.IsNotFound(err) {
				return fmt.Errorf("remove staging snapshot %s: %w", info.Name, err)
			}
		}
	}
	return nil
}
