package image

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s, err := NewStore(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	a := Image{ID: digest.FromString("a"), Created: time.Unix(100, 0)}
	b := Image{ID: digest.FromString("b"), Created: time.Unix(200, 0)}
	if err := s.Put(ctx, a, "docker.io/library/busybox:latest", "docker.io/library/busybox:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, b, "docker.io/library/alpine:latest"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"busybox", "busybox:1", "docker.io/library/busybox:latest", a.ID.String(), a.ID.Encoded()[:6], "sha256:" + a.ID.Encoded()[:12]} {
		n, err := s.Get(ctx, ref)
		if err != nil || n.ID != a.ID || len(n.Names) != 2 {
			t.Errorf("Get(%q): got %s %v, %v; want %s with 2 names", ref, n.ID, n.Names, err, a.ID)
		}
	}
	for _, ref := range []string{"busybox:2", "nothere", "abc", "sha256:"} {
		if _, err := s.Get(ctx, ref); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Get(%q): got %v, want not found", ref, err)
		}
	}
	// Moving a tag: alpine:latest now names a.
	if err := s.Tag(ctx, a.ID, "docker.io/library/alpine:latest"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Get(ctx, "alpine"); n.ID != a.ID {
		t.Errorf("after tag: alpine names %s, want %s", n.ID, a.ID)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || len(list[0].Names) != 0 || len(list[1].Names) != 3 {
		t.Errorf("List: got %+v, %v; want b (no names) then a (3 names)", list, err)
	}
	if id, err := s.Untag(ctx, "docker.io/library/busybox:1"); err != nil || id != a.ID {
		t.Errorf("Untag: got %s, %v", id, err)
	}
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "busybox"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("after delete: Get(busybox) = %v, want not found", err)
	}
	if err := s.Tag(ctx, a.ID, "x:y"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Tag of a deleted image: got %v, want not found", err)
	}
}

func TestLeases(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s, _ := NewStore(db)
	live, _ := s.NewLease(ctx, time.Hour)
	old, _ := s.NewLease(ctx, -time.Second)
	if err := s.AddToLease(ctx, live, []digest.Digest{digest.FromString("x")}, []string{"staging-1"}); err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		ls, err := leases(tx, time.Now())
		if err != nil || len(ls) != 1 || ls[0].ID != live.ID || len(ls[0].Digests) != 1 || ls[0].Snapshots[0] != "staging-1" {
			t.Errorf("leases: got %+v, %v; want only %s with its digest and snapshot", ls, err, live.ID)
		}
		if tx.Bucket(bucketLeases).Get([]byte(old.ID)) != nil {
			t.Errorf("expired lease %s still recorded", old.ID)
		}
		return nil
	})
	if err := s.PutReleasing(ctx, live, Image{ID: digest.FromString("i")}, "a:b"); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketLeases).Get([]byte(live.ID)) != nil {
			t.Errorf("lease %s still recorded after PutReleasing", live.ID)
		}
		return nil
	})
}

func TestChainIDs(t *testing.T) {
	d1, d2 := digest.FromString("1"), digest.FromString("2")
	got := ChainIDs([]digest.Digest{d1, d2})
	if want := digest.FromString(d1.String() + " " + d2.String()); got[0] != d1 || got[1] != want {
		t.Errorf("ChainIDs: got %v, want [%s %s]", got, d1, want)
	}
}
