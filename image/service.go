package image

import (
	"fmt"
	"sync"

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
