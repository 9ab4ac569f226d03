package volume

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"
	bolt "go.etcd.io/bbolt"
)

// newTestService opens a service over a temporary root and database.
func newTestService(t *testing.T, root string) *Service {
	t.Helper()
	db, err := bolt.Open(filepath.Join(filepath.Dir(root), "test.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(Options{DB: db, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func reopen(t *testing.T, s *Service) *Service {
	t.Helper()
	s2, err := New(s.o)
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"data", true}, {"a1", true}, {"A.b_c-d", true}, {"0abc", true},
		{"", false}, {"a", false}, {"_data", false}, {".hidden", false}, {"-x", false},
		{"a/b", false}, {"a b", false}, {"../x", false}, {strings.Repeat("a", 256), false},
	} {
		if got := ValidName(tc.name); got != tc.want {
			t.Errorf("ValidName(%q): got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string // "" for valid
	}{
		{nil, ""},
		{map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, ""},
		{map[string]string{"type": "none", "device": "/srv", "o": "bind"}, ""},
		{map[string]string{"bogus": "1"}, `invalid option: "bogus"`},
		{map[string]string{"type": "tmpfs"}, `missing required option: "device"`},
		{map[string]string{"device": "/dev/sda1"}, `missing required option: "type"`},
		{map[string]string{"o": "bind"}, `missing required option: "device"`},
		{map[string]string{"size": "1g"}, "quota size requested but no quota support"},
		{map[string]string{"type": "tmpfs", "device": "tm\x00pfs"}, "NUL"},
	} {
		err := checkOptions(tc.opts)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkOptions(%v): got %v, want nil", tc.opts, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errdefs.IsInvalidArgument(err)):
			t.Errorf("checkOptions(%v): got %v, want an invalid argument error with %q", tc.opts, err, tc.want)
		}
	}
}

func TestCreateUseRemove(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	v, err := s.Create(ctx, volume.CreateRequest{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Driver != "local" || v.Scope != "local" || v.Mountpoint != s.dataDir("data") || v.Labels["a"] != "b" {
		t.Errorf("Create: got %+v", v)
	}
	// Again: the same volume, as dockerd answers.
	if v2, err := s.Create(ctx, volume.CreateRequest{Name: "data"}); err != nil || v2.CreatedAt != v.CreatedAt {
		t.Errorf("Create of an existing volume: got %+v, %v", v2, err)
	}
	if _, err := s.Create(ctx, volume.CreateRequest{Name: "x/y"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Create with a bad name: got %v, want invalid argument", err)
	}
	if _, err := s.Create(ctx, volume.CreateRequest{Name: "p", Driver: "nfs"}); !errdefs.IsNotFound(err) {
		t.Errorf("Create with an unknown driver: got %v, want not found", err)
	}
	name, dir, err := s.Use(ctx, "data", "c1", nil)
	if err != nil || name != "data" || dir != s.dataDir("data") {
		t.Fatalf("Use: got %q %q %v", name, dir, err)
	}
	err = s.Remove(ctx, "data", false)
	if !errdefs.IsConflict(err) || err.Error() != "remove data: volume is in use - [c1]" {
		t.Errorf("Remove in use: got %v", err)
	}
	if err := s.Remove(ctx, "data", true); !errdefs.IsConflict(err) {
		t.Errorf("Remove in use with force: got %v, want a conflict still", err)
	}
	s.Unuse("data", "c1")
	if err := s.Remove(ctx, "data", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.volDir("data")); !os.IsNotExist(err) {
		t.Errorf("removed volume's directory: got %v, want gone", err)
	}
	if err := s.Remove(ctx, "data", false); !errdefs.IsNotFound(err) || err.Error() != "get data: no such volume" {
		t.Errorf("Remove of a missing volume: got %v", err)
	}
	if err := s.Remove(ctx, "data", true); err != nil {
		t.Errorf("Remove -f of a missing volume: got %v, want nil", err)
	}
	// An anonymous volume: 64 hex digits, labelled.
	name, _, err = s.Use(ctx, "", "c2", &mount.VolumeOptions{Labels: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, name)
	if len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" || got.Labels[LabelAnonymous] != "" || got.Labels["k"] != "v" {
		t.Errorf("anonymous volume: got %q %v", name, got.Labels)
	}
	if _, ok := got.Labels[LabelAnonymous]; !ok {
		t.Errorf("anonymous volume without label %s", LabelAnonymous)
	}
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	for _, n := range []string{"alpha", "beta", "gamma"} {
		if _, err := s.Create(ctx, volume.CreateRequest{Name: n, Labels: map[string]string{"n": n, "all": ""}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Use(ctx, "beta", "c", nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filters map[string][]string
		want    []string
	}{
		{nil, []string{"alpha", "beta", "gamma"}},
		{map[string][]string{"dangling": {"true"}}, []string{"alpha", "gamma"}},
		{map[string][]string{"dangling": {"0"}}, []string{"beta"}},
		{map[string][]string{"label": {"n=gamma"}}, []string{"gamma"}},
		{map[string][]string{"label": {"all", "n=alpha"}}, []string{"alpha"}},
		{map[string][]string{"name": {"^.e"}}, []string{"beta"}},
		{map[string][]string{"name": {"a$"}}, []string{"alpha", "beta", "gamma"}},
		{map[string][]string{"driver": {"local"}}, []string{"alpha", "beta", "gamma"}},
		{map[string][]string{"driver": {"other"}}, nil},
	} {
		vols, err := s.List(ctx, tc.filters)
		if err != nil {
			t.Errorf("List(%v): %v", tc.filters, err)
			continue
		}
		var got []string
		for _, v := range vols {
			got = append(got, v.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%v): got %v, want %v", tc.filters, got, tc.want)
		}
	}
	for _, bad := range []map[string][]string{{"bogus": {"x"}}, {"dangling": {"maybe"}}} {
		if _, err := s.List(ctx, bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("List(%v): got %v, want invalid argument", bad, err)
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	s.Create(ctx, volume.CreateRequest{Name: "named"})
	s.Create(ctx, volume.CreateRequest{Name: "kept", Labels: map[string]string{"keep": "1"}})
	anon, _, _ := s.Use(ctx, "", "c1", nil)
	used, _, _ := s.Use(ctx, "", "c2", nil)
	s.Unuse(anon, "c1")
	os.WriteFile(filepath.Join(s.dataDir(anon), "f"), []byte("12345"), 0o644)
	rep, err := s.Prune(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.VolumesDeleted, []string{anon}) || rep.SpaceReclaimed != 5 {
		t.Errorf("Prune: got %+v, want only %s, 5 bytes", rep, anon)
	}
	rep, err = s.Prune(ctx, map[string][]string{"all": {"true"}, "label!": {"keep"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.VolumesDeleted, []string{"named"}) {
		t.Errorf("Prune all, label!=keep: got %v, want [named]", rep.VolumesDeleted)
	}
	if names := s.names(); !slices.Equal(names, slices.Sorted(slices.Values([]string{"kept", used}))) {
		t.Errorf("left: got %v", names)
	}
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "volumes")
	s := newTestService(t, root)
	s.Create(ctx, volume.CreateRequest{Name: "rec"})
	s.Create(ctx, volume.CreateRequest{Name: "crashed"})
	os.WriteFile(filepath.Join(s.dataDir("crashed"), "old"), []byte("x"), 0o644)
	// A crash between an import's renames; a record whose directory is
	// gone; a directory without a record; a removal cut short.
	os.Rename(s.dataDir("crashed"), filepath.Join(s.volDir("crashed"), "_old"))
	os.MkdirAll(filepath.Join(s.volDir("crashed"), "_import-123"), 0o755)
	os.RemoveAll(s.volDir("rec"))
	os.MkdirAll(filepath.Join(root, "stray", "_data"), 0o755)
	os.MkdirAll(filepath.Join(root, removePrefix+"gone-1", "_data"), 0o755)
	s2 := reopen(t, s)
	if got := s2.names(); !slices.Equal(got, []string{"crashed", "rec", "stray"}) {
		t.Errorf("volumes after reconcile: got %v", got)
	}
	for _, p := range []string{s2.dataDir("rec"), filepath.Join(s2.dataDir("crashed"), "old")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after reconcile: %v", err)
		}
	}
	for _, p := range []string{filepath.Join(root, removePrefix+"gone-1"), filepath.Join(s2.volDir("crashed"), "_import-123")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("leftover %s: got %v, want removed", p, err)
		}
	}
}
