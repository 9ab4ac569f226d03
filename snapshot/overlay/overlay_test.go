package overlay_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/containerd/errdefs"

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

// TestRootWithColon: overlay separates lowerdirs with colons, so a root
// path holding one must be escaped in the mounts and unescaped again.
func TestRootWithColon(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := overlay.New(filepath.Join(dir, "a,b"), db); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("New with a comma in root: got %v, want invalid argument", err)
	}
	sn, err := overlay.New(filepath.Join(dir, "a:b"), db)
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"l0", "l1"} {
		parent := ""
		if i > 0 {
			parent = "l0"
		}
		if _, err := sn.Prepare(ctx, key+"-a", parent); err != nil {
			t.Fatal(err)
		}
		if err := sn.Commit(ctx, key, key+"-a"); err != nil {
			t.Fatal(err)
		}
	}
	mounts, err := sn.Prepare(ctx, "ctr", "l1")
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "mnt")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount.All(mounts, target); err != nil {
		t.Fatal(err)
	}
	if err := mount.UnmountAll(target); err != nil {
		t.Fatal(err)
	}
}
