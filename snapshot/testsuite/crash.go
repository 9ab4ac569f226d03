package testsuite

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/snapshot"
)

func cleaner(t *testing.T, sn snapshot.Snapshotter) snapshot.Cleaner {
	t.Helper()
	c, ok := sn.(snapshot.Cleaner)
	if !ok {
		t.Fatalf("%T does not implement snapshot.Cleaner", sn)
	}
	return c
}

// testReopen restarts the snapshotter and its database and finds the same
// snapshots, mounts and contents.
func testReopen(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	h.layer("base", "", func(d string) { write(t, filepath.Join(d, "f"), "base") })
	active, err := h.sn.Prepare(h.ctx, "active", "base", snapshot.WithLabels(map[string]string{"l": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	d := h.mount(active)
	write(t, filepath.Join(d, "g"), "active")
	h.unmount(d)
	before := walk(t, h.sn, h)

	h.reopen()
	after := walk(t, h.sn, h)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("after reopen: got %+v, want %+v", after, before)
	}
	again, err := h.sn.Mounts(h.ctx, "active")
	if err != nil || !reflect.DeepEqual(again, active) {
		t.Errorf("Mounts after reopen: got %v, %v, want %v", again, err, active)
	}
	d = h.mount(again)
	expect(t, d, map[string]string{"f": "base", "g": "active"})
	h.unmount(d)
	if orphans, err := cleaner(t, h.sn).Orphans(h.ctx); err != nil || len(orphans) != 0 {
		t.Errorf("Orphans after a clean restart: got %q, %v, want none", orphans, err)
	}
	// New ids do not collide with the ones in use.
	h.layer("next", "base", func(d string) { write(t, filepath.Join(d, "f"), "next") })
	d = h.view("v", "base")
	expect(t, d, map[string]string{"f": "base"})
	h.unmount(d)
}

// testOrphans plants what a crash leaves (a half-built dir, a half-removed
// one, a dir whose record never committed) and has Cleanup remove them,
// except one with something mounted inside.
func testOrphans(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	h.layer("base", "", func(d string) { write(t, filepath.Join(d, "f"), "base") })
	snaps := filepath.Join(h.root, "snapshots")
	var planted []string
	for _, name := range []string{"new-crashed", "rm-crashed", "999"} {
		p := filepath.Join(snaps, name)
		write(t, filepath.Join(p, "fs", "junk"), "junk")
		planted = append(planted, p)
	}
	h.reopen()
	c := cleaner(t, h.sn)
	orphans, err := c.Orphans(h.ctx)
	slices.Sort(orphans)
	slices.Sort(planted)
	if err != nil || !reflect.DeepEqual(orphans, planted) {
		t.Fatalf("Orphans: got %q, %v, want %q", orphans, err, planted)
	}

	// A mount inside an orphan keeps Cleanup from deleting through it.
	outside := filepath.Join(h.dir, "outside")
	write(t, filepath.Join(outside, "precious"), "p")
	inside := filepath.Join(snaps, "999", "fs")
	must(t, mount.All([]mount.Mount{{Type: "bind", Source: outside, Options: []string{"rbind"}}}, inside))
	removed, err := c.Cleanup(h.ctx)
	if err == nil || !strings.Contains(err.Error(), inside) {
		t.Errorf("Cleanup with a mount inside an orphan: got %v, want an error naming %s", err, inside)
	}
	must(t, mount.UnmountAll(inside))
	expect(t, outside, map[string]string{"precious": "p"})

	more, err := c.Cleanup(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(removed, more...); len(got) != len(planted) {
		t.Errorf("Cleanup removed %q, want %q", got, planted)
	}
	for _, p := range planted {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Cleanup: got %v, want it gone", p, err)
		}
	}
	d := h.view("v", "base")
	expect(t, d, map[string]string{"f": "base"})
	h.unmount(d)
}

// testStaleIDs plants directories at the ids the snapshotter will hand out
// next, as a crash between the rename into place and the commit does. New
// snapshots must start empty regardless.
func testStaleIDs(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	for i := 1; i <= 5; i++ {
		write(t, filepath.Join(h.root, "snapshots", fmt.Sprint(i), "fs", "stale"), "stale")
	}
	h.reopen()
	for i := range 3 {
		mounts, err := h.sn.Prepare(h.ctx, fmt.Sprint("a", i), "")
		if err != nil {
			t.Fatal(err)
		}
		d := h.mount(mounts)
		expect(t, d, map[string]string{"stale": ""})
		h.unmount(d)
	}
	if _, err := cleaner(t, h.sn).Cleanup(h.ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(h.root, "snapshots"))
	if err != nil || len(entries) != 3 {
		t.Errorf("after Cleanup: got %d dirs (%v), want the 3 snapshots'", len(entries), err)
	}
}

// testDeepChain stacks 150 layers under a long root path, more than
// mount(2)'s page of options can list, and mounts views and a writable
// snapshot on top.
func testDeepChain(t *testing.T, h0 *harness) {
	testutil.RequireRoot(t)
	h0.close()
	pad := filepath.Join(strings.Repeat("p", 120), strings.Repeat("q", 60))
	h := newHarness(t, h0.newSn, pad)
	const n = 150
	for i := range n {
		h.layer(fmt.Sprint("l", i), parentName(i), func(d string) {
			write(t, filepath.Join(d, "top"), fmt.Sprint(i))
			if i%30 == 0 {
				write(t, filepath.Join(d, fmt.Sprint("f", i)), fmt.Sprint(i))
			}
		})
	}
	want := map[string]string{"top": fmt.Sprint(n - 1), "f0": "0", "f60": "60", "f120": "120"}
	v := h.view("v", fmt.Sprint("l", n-1))
	expect(t, v, want)
	h.unmount(v)
	mounts, err := h.sn.Prepare(h.ctx, "ctr", fmt.Sprint("l", n-1))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.Type == "overlay" && len(strings.Join(m.Options, ",")) < 4096 {
			t.Errorf("overlay options are %d bytes; the test must exceed mount(2)'s page", len(strings.Join(m.Options, ",")))
		}
	}
	d := h.mount(mounts)
	expect(t, d, want)
	write(t, filepath.Join(d, "top"), "ctr")
	expect(t, d, map[string]string{"top": "ctr"})
	h.unmount(d)
}
