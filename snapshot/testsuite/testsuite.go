// Package testsuite is the conformance suite every snapshot.Snapshotter
// runs, unchanged: its package test calls Run with a constructor.
//
// Tests that apply mounts need root (testutil.RequireRoot: skipped as
// another user, failed under BERTH_CI=1). Every test checks at its end that
// it left nothing mounted below its directories.
package testsuite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
	bolt "go.etcd.io/bbolt"
)

// New makes a snapshotter at root whose records live in db.
type New func(t *testing.T, root string, db *bolt.DB) snapshot.Snapshotter

// Run runs the suite against the snapshotters newSnapshotter makes.
func Run(t *testing.T, newSnapshotter func(t *testing.T, root string, db *bolt.DB) snapshot.Snapshotter) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"Chain", testChain},
		{"DeleteAndOpaque", testDeleteAndOpaque},
		{"FileTypes", testFileTypes},
		{"Staging", testStaging},
		{"Remove", testRemove},
		{"Walk", testWalk},
		{"Usage", testUsage},
		{"Labels", testLabels},
		{"Errors", testErrors},
		{"Reopen", testReopen},
		{"Orphans", testOrphans},
		{"StaleIDs", testStaleIDs},
		{"DeepChain", testDeepChain},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t, newSnapshotter, "")) })
	}
}

// harness holds one snapshotter, its database and its directories.
type harness struct {
	t      *testing.T
	ctx    context.Context
	dir    string // holds everything below
	root   string
	dbPath string
	db     *bolt.DB
	sn     snapshot.Snapshotter
	newSn  New
}

// newHarness opens a database and a snapshotter under a temp dir; pad
// lengthens the root path (for deep-chain tests).
func newHarness(t *testing.T, newSn New, pad string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, ctx: context.Background(), dir: dir, root: filepath.Join(dir, pad, "root"),
		dbPath: filepath.Join(dir, "berth.db"), newSn: newSn}
	h.open()
	t.Cleanup(func() {
		h.close()
		leftovers(t, dir)
	})
	return h
}

func (h *harness) open() {
	h.t.Helper()
	db, err := bolt.Open(h.dbPath, 0o600, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.db, h.sn = db, h.newSn(h.t, h.root, db)
}

func (h *harness) close() {
	h.t.Helper()
	if h.sn != nil {
		if err := h.sn.Close(); err != nil {
			h.t.Errorf("close snapshotter: %v", err)
		}
		h.sn = nil
	}
	if h.db != nil {
		if err := h.db.Close(); err != nil {
			h.t.Errorf("close db: %v", err)
		}
		h.db = nil
	}
}

// reopen closes the snapshotter and the database and opens both again, as
// a restarted daemon does.
func (h *harness) reopen() { h.close(); h.open() }

// leftovers fails the test for anything still mounted below dir, after
// taking it off so that the temp dir can go.
func leftovers(t *testing.T, dir string) {
	mps, err := mount.Under(dir)
	if err != nil {
		t.Error(err)
		return
	}
	for i := len(mps) - 1; i >= 0; i-- {
		t.Errorf("left mounted: %s", mps[i])
		if err := mount.UnmountAll(mps[i]); err != nil {
			t.Error(err)
		}
	}
}

// mount applies mounts on a new dir and returns it; unmount (or the test's
// end, on failure) takes them off.
func (h *harness) mount(mounts []mount.Mount) string {
	h.t.Helper()
	target, err := os.MkdirTemp(h.dir, "mnt-")
	if err != nil {
		h.t.Fatal(err)
	}
	if err := mount.All(mounts, target); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = mount.UnmountAll(target) })
	return target
}

func (h *harness) unmount(target string) {
	h.t.Helper()
	if err := mount.UnmountAll(target); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Remove(target); err != nil {
		h.t.Fatal(err)
	}
}

// layer prepares key on parent, applies change through its mounts (none
// when change is nil: no mount, no root needed), and commits it as name.
func (h *harness) layer(name, parent string, change func(dir string), opts ...snapshot.Opt) {
	h.t.Helper()
	key := name + "-active"
	mounts, err := h.sn.Prepare(h.ctx, key, parent)
	if err != nil {
		h.t.Fatal(err)
	}
	if change != nil {
		dir := h.mount(mounts)
		change(dir)
		h.unmount(dir)
	}
	if err := h.sn.Commit(h.ctx, name, key, opts...); err != nil {
		h.t.Fatal(err)
	}
}

// view mounts a view of parent and returns the mount dir.
func (h *harness) view(key, parent string) string {
	h.t.Helper()
	mounts, err := h.sn.View(h.ctx, key, parent)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.mount(mounts)
}
