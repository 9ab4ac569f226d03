package testsuite

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/snapshot"
	"github.com/containerd/errdefs"
)

var (
	errNotFound       = errdefs.ErrNotFound
	errExists         = errdefs.ErrAlreadyExists
	errInvalid        = errdefs.ErrInvalidArgument
	errPrecondition   = errdefs.ErrFailedPrecondition
	errNotImplemented = errdefs.ErrNotImplemented
)

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func testRemove(t *testing.T, h *harness) {
	h.layer("base", "", nil)
	h.layer("mid", "base", nil)
	if _, err := h.sn.Prepare(h.ctx, "active", "mid"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sn.View(h.ctx, "view", "base"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Remove base (parent of mid and view)", h.sn.Remove(h.ctx, "base"), errPrecondition)
	wantErr(t, "Remove mid (parent of active)", h.sn.Remove(h.ctx, "mid"), errPrecondition)
	for _, key := range []string{"active", "mid", "view", "base"} {
		if err := h.sn.Remove(h.ctx, key); err != nil {
			t.Fatalf("Remove %s: %v", key, err)
		}
		if _, err := h.sn.Stat(h.ctx, key); !errors.Is(err, errNotFound) {
			t.Errorf("Stat of removed %s: got %v, want not found", key, err)
		}
	}
	wantErr(t, "Remove again", h.sn.Remove(h.ctx, "base"), errNotFound)
	entries, err := os.ReadDir(filepath.Join(h.root, "snapshots"))
	if err != nil || len(entries) != 0 {
		t.Errorf("snapshot dirs after removing all: got %d (%v), want none", len(entries), err)
	}
}

func walk(t *testing.T, sn snapshot.Snapshotter, h *harness) map[string]snapshot.Info {
	t.Helper()
	got := map[string]snapshot.Info{}
	err := sn.Walk(h.ctx, func(in snapshot.Info) error {
		got[in.Name] = in
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testWalk(t *testing.T, h *harness) {
	h.layer("base", "", nil)
	if _, err := h.sn.Prepare(h.ctx, "active", "base"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sn.View(h.ctx, "view", "base"); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for name, in := range walk(t, h.sn, h) {
		got[name] = [2]string{in.Kind.String(), in.Parent}
	}
	want := map[string][2]string{"base": {"committed", ""}, "active": {"active", "base"}, "view": {"view", "base"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Walk: got %v, want %v", got, want)
	}
	stop := errors.New("stop")
	calls := 0
	if err := h.sn.Walk(h.ctx, func(snapshot.Info) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Walk with a failing fn: got %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func testUsage(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	const size = 1 << 20
	data := make([]byte, size)
	rand.Read(data)
	mounts, err := h.sn.Prepare(h.ctx, "active", "")
	if err != nil {
		t.Fatal(err)
	}
	d := h.mount(mounts)
	must(t, os.WriteFile(filepath.Join(d, "big"), data, 0o644))
	must(t, os.Link(filepath.Join(d, "big"), filepath.Join(d, "big-link")))
	h.unmount(d)
	check := func(key string) {
		u, err := h.sn.Usage(h.ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		// The fs dir and one file (its second link counted once).
		if u.Size < size || u.Size > size+64<<10 || u.Inodes != 2 {
			t.Errorf("Usage of %s: got %+v, want about %d bytes in 2 inodes", key, u, size)
		}
	}
	check("active")
	must(t, h.sn.Commit(h.ctx, "layer", "active"))
	check("layer")
	_, err = h.sn.Usage(h.ctx, "missing")
	wantErr(t, "Usage of missing", err, errNotFound)
}

func testLabels(t *testing.T, h *harness) {
	prep := map[string]string{"stage": "1", "x": "y"}
	if _, err := h.sn.Prepare(h.ctx, "active", "", snapshot.WithLabels(prep)); err != nil {
		t.Fatal(err)
	}
	if in, err := h.sn.Stat(h.ctx, "active"); err != nil || !reflect.DeepEqual(in.Labels, prep) || in.Created.IsZero() {
		t.Errorf("Stat active: got %+v, %v, want labels %v and a creation time", in, err, prep)
	}
	com := map[string]string{"chain": "sha256:abc"}
	must(t, h.sn.Commit(h.ctx, "layer", "active", snapshot.WithLabels(com)))
	if in, err := h.sn.Stat(h.ctx, "layer"); err != nil || !reflect.DeepEqual(in.Labels, com) || in.Kind != snapshot.KindCommitted {
		t.Errorf("Stat layer: got %+v, %v, want committed with labels %v", in, err, com)
	}
	if _, err := h.sn.View(h.ctx, "view", "layer", snapshot.WithLabels(map[string]string{"v": "1"})); err != nil {
		t.Fatal(err)
	}
	if in, err := h.sn.Stat(h.ctx, "view"); err != nil || in.Labels["v"] != "1" || in.Kind != snapshot.KindView {
		t.Errorf("Stat view: got %+v, %v, want a view labelled v=1", in, err)
	}
}

func testErrors(t *testing.T, h *harness) {
	h.layer("base", "", nil)
	if _, err := h.sn.Prepare(h.ctx, "active", "base"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sn.View(h.ctx, "view", "base"); err != nil {
		t.Fatal(err)
	}
	ignore := func(_ any, err error) error { return err }
	var onMissingParent error = errNotFound
	if !h.sn.Features().Rebase {
		onMissingParent = errNotImplemented
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"Stat missing", ignore(h.sn.Stat(h.ctx, "missing")), errNotFound},
		{"Mounts missing", ignore(h.sn.Mounts(h.ctx, "missing")), errNotFound},
		{"Mounts committed", ignore(h.sn.Mounts(h.ctx, "base")), errPrecondition},
		{"Prepare on missing parent", ignore(h.sn.Prepare(h.ctx, "new1", "missing")), errNotFound},
		{"Prepare on active parent", ignore(h.sn.Prepare(h.ctx, "new2", "active")), errInvalid},
		{"View on view parent", ignore(h.sn.View(h.ctx, "new3", "view")), errInvalid},
		{"Prepare existing active key", ignore(h.sn.Prepare(h.ctx, "active", "")), errExists},
		{"Prepare over committed name", ignore(h.sn.Prepare(h.ctx, "base", "")), errExists},
		{"View existing key", ignore(h.sn.View(h.ctx, "view", "base")), errExists},
		{"Prepare empty key", ignore(h.sn.Prepare(h.ctx, "", "")), errInvalid},
		{"Commit missing", h.sn.Commit(h.ctx, "x", "missing"), errNotFound},
		{"Commit over existing name", h.sn.Commit(h.ctx, "base", "active"), errExists},
		{"Commit a view", h.sn.Commit(h.ctx, "x", "view"), errPrecondition},
		{"Commit a committed", h.sn.Commit(h.ctx, "x", "base"), errPrecondition},
		{"Commit onto missing parent", h.sn.Commit(h.ctx, "x", "active", snapshot.WithParent("missing")), onMissingParent},
		{"Remove missing", h.sn.Remove(h.ctx, "missing"), errNotFound},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, tt.err, tt.want)
	}
	// The failed calls left the snapshots as they were.
	if got := walk(t, h.sn, h); len(got) != 3 {
		t.Errorf("after failed calls: got %d snapshots, want 3", len(got))
	}
}
