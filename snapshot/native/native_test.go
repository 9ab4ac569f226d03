package native_test

import (
	"testing"

	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/native"
	"github.com/berth-dev/berth/snapshot/testsuite"
	bolt "go.etcd.io/bbolt"
)

func TestNative(t *testing.T) {
	testsuite.Run(t, func(t *testing.T, root string, db *bolt.DB) snapshot.Snapshotter {
		sn, err := native.New(root, db)
		if err != nil {
			t.Fatal(err)
		}
		return sn
	})
}
