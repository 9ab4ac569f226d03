package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/snapshot"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(filepath.Join(dir, "root"), db, "snapshots/test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// entries lists R/snapshots.
func entries(t *testing.T, s *Store) []string {
	t.Helper()
	des, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestCreateRollsBack(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, _, err := s.Create(ctx, snapshot.KindActive, "base", "", snapshot.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "committed", "base", snapshot.Options{}, false); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name     string
		parent   string
		populate Populate
		want     error
	}{
		{"populate fails", "", func(context.Context, string, []uint64) error { return boom }, boom},
		{"key taken while building", "", func(ctx context.Context, _ string, _ []uint64) error {
			_, _, err := s.Create(ctx, snapshot.KindView, "k", "", snapshot.Options{}, nil)
			return err
		}, errdefs.ErrAlreadyExists},
		{"parent replaced while building", "committed", func(ctx context.Context, _ string, _ []uint64) error {
			if err := s.Remove(ctx, "committed"); err != nil {
				return err
			}
			if _, _, err := s.Create(ctx, snapshot.KindActive, "again", "", snapshot.Options{}, nil); err != nil {
				return err
			}
			return s.Commit(ctx, "committed", "again", snapshot.Options{}, false)
		}, errdefs.ErrAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Create(ctx, snapshot.KindActive, "k", tt.parent, snapshot.Options{}, tt.populate)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			orphans, err := s.Orphans(ctx)
			if err != nil || len(orphans) != 0 {
				t.Errorf("orphans: got %q, %v, want none", orphans, err)
			}
			if err := s.Remove(ctx, "k"); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				t.Fatal(err)
			}
		})
	}
	if got := entries(t, s); len(got) != 1 {
		t.Errorf("dirs: got %q, want only the committed snapshot's", got)
	}
}

// TestBuildingIsNotOrphan runs Cleanup while a snapshot is being built and
// recorded: the dir in progress must survive.
func TestBuildingIsNotOrphan(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var during []string
	populate := func(ctx context.Context, fs string, _ []uint64) error {
		if err := os.WriteFile(filepath.Join(fs, "f"), []byte("x"), 0o644); err != nil {
			return err
		}
		var err error
		during, err = s.Cleanup(ctx)
		return err
	}
	r, _, err := s.Create(ctx, snapshot.KindActive, "k", "", snapshot.Options{}, populate)
	if err != nil {
		t.Fatal(err)
	}
	if len(during) != 0 {
		t.Errorf("Cleanup during Create removed %q, want nothing", during)
	}
	if b, err := os.ReadFile(filepath.Join(s.FS(r.ID), "f")); err != nil || string(b) != "x" {
		t.Errorf("snapshot file: got %q, %v, want %q", b, err, "x")
	}
}

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "s")); err != nil {
		t.Fatal(err)
	}
	// A sparse file: 1 GiB long, no data blocks.
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	u, err := DiskUsage(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if u.Inodes != 4 || u.Size < int64(len(data)) || u.Size > int64(len(data))+64<<10 {
		t.Errorf("got %+v, want 4 inodes (dir, a=b, s, sparse) and about %d bytes", u, len(data))
	}
}
