package overlay_test

import (
	"testing"

	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/overlay"
	"github.com/berth-dev/berth/snapshot/testsuite"
	bolt "go.etcd.io/bbolt"
)

func TestOverlay(t *testing.T) {
	testsuite.Run(t, func(t *testing.T, root string, db *bolt.DB) snapshot.Snapshotter {
		sn, err := overlay.New(root, db)
		if err != nil {
			t.Fatal(err)
		}
		return sn
	})
}
