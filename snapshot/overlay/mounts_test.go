package overlay

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/storage"
	bolt "go.etcd.io/bbolt"
)

// TestMounts pins the mounts each kind of snapshot gets.
func TestMounts(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(filepath.Join(dir, "r"), db)
	if err != nil {
		t.Fatal(err)
	}
	s.indexOff = false
	fs := func(id string) string { return filepath.Join(dir, "r/snapshots", id, "fs") }
	work := func(id string) string { return filepath.Join(dir, "r/snapshots", id, "work") }
	tests := []struct {
		name    string
		kind    snapshot.Kind
		parents []uint64
		index   bool
		want    mount.Mount
	}{
		{"active, no parent", snapshot.KindActive, nil, false,
			mount.Mount{Type: "bind", Source: fs("7"), Options: []string{"rbind", "rw"}}},
		{"view, no parent", snapshot.KindView, nil, false,
			mount.Mount{Type: "bind", Source: fs("7"), Options: []string{"rbind", "ro"}}},
		{"view, one parent", snapshot.KindView, []uint64{3}, false,
			mount.Mount{Type: "bind", Source: fs("3"), Options: []string{"rbind", "ro"}}},
		{"view, parents", snapshot.KindView, []uint64{3, 1}, false,
			mount.Mount{Type: "overlay", Source: "overlay", Options: []string{"lowerdir=" + fs("3") + ":" + fs("1")}}},
		{"active, parents", snapshot.KindActive, []uint64{3, 1}, false,
			mount.Mount{Type: "overlay", Source: "overlay", Options: []string{
				"upperdir=" + fs("7"), "workdir=" + work("7"), "lowerdir=" + fs("3") + ":" + fs("1")}}},
		{"active, one parent, index on by default", snapshot.KindActive, []uint64{3}, true,
			mount.Mount{Type: "overlay", Source: "overlay", Options: []string{
				"index=off", "upperdir=" + fs("7"), "workdir=" + work("7"), "lowerdir=" + fs("3")}}},
	}
	for _, tt := range tests {
		s.indexOff = tt.index
		got := s.mounts(storage.Record{ID: 7, Kind: tt.kind}, tt.parents)
		if want := []mount.Mount{tt.want}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, want)
		}
	}
}
