package testsuite

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/snapshot"
	"golang.org/x/sys/unix"
)

func testChain(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	h.layer("base", "", func(d string) {
		write(t, filepath.Join(d, "a"), "a1")
		write(t, filepath.Join(d, "d/x"), "x")
		write(t, filepath.Join(d, "d/y"), "y")
	})
	h.layer("l2", "base", func(d string) {
		expect(t, d, map[string]string{"a": "a1", "d/x": "x"})
		write(t, filepath.Join(d, "a"), "a2")
		remove(t, filepath.Join(d, "d/x"))
		write(t, filepath.Join(d, "n"), "n")
	})

	top := h.view("v2", "l2")
	expect(t, top, map[string]string{"a": "a2", "d/x": "", "d/y": "y", "n": "n"})
	expectReadOnly(t, top)
	h.unmount(top)

	// Committed layers do not change under their children.
	bottom := h.view("v1", "base")
	expect(t, bottom, map[string]string{"a": "a1", "d/x": "x", "n": ""})
	h.unmount(bottom)

	// A container's writable snapshot on top; Mounts returns the same again.
	mounts, err := h.sn.Prepare(h.ctx, "ctr", "l2")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.sn.Mounts(h.ctx, "ctr")
	if err != nil || !reflect.DeepEqual(again, mounts) {
		t.Errorf("Mounts: got %v, %v, want %v", again, err, mounts)
	}
	rw := h.mount(mounts)
	write(t, filepath.Join(rw, "a"), "ctr")
	expect(t, rw, map[string]string{"a": "ctr", "d/y": "y"})
	h.unmount(rw)
	v := h.view("v3", "l2")
	expect(t, v, map[string]string{"a": "a2"})
	h.unmount(v)
}

func testDeleteAndOpaque(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	h.layer("l1", "", func(d string) {
		write(t, filepath.Join(d, "o/1"), "1")
		write(t, filepath.Join(d, "o/sub/2"), "2")
		write(t, filepath.Join(d, "tree/deep/f"), "f")
	})
	h.layer("l2", "l1", func(d string) {
		remove(t, filepath.Join(d, "o"))
		write(t, filepath.Join(d, "o/3"), "3") // a new dir over a deleted one
		remove(t, filepath.Join(d, "tree"))
	})
	h.layer("l3", "l2", func(d string) {
		write(t, filepath.Join(d, "tree"), "now a file")
	})
	v := h.view("v", "l3")
	expect(t, v, map[string]string{"o/1": "", "o/sub/2": "", "o/3": "3", "tree": "now a file"})
	entries, err := os.ReadDir(filepath.Join(v, "o"))
	if err != nil || len(entries) != 1 {
		t.Errorf("o: got %d entries (%v), want only 3", len(entries), err)
	}
	h.unmount(v)
}

// testFileTypes checks that what a layer holds reaches its children intact:
// symlinks, hardlinks, fifos, devices, owners, modes, xattrs and times.
func testFileTypes(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	mtime := unix.NsecToTimespec(1_000_000_123)
	h.layer("base", "", func(d string) {
		write(t, filepath.Join(d, "f"), "data")
		must(t, os.Symlink("f", filepath.Join(d, "link")))
		must(t, os.Link(filepath.Join(d, "f"), filepath.Join(d, "hard")))
		must(t, unix.Mkfifo(filepath.Join(d, "fifo"), 0o600))
		must(t, unix.Mknod(filepath.Join(d, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		must(t, os.Lchown(filepath.Join(d, "f"), 1234, 5678))
		must(t, unix.Chmod(filepath.Join(d, "f"), 0o4750))
		must(t, unix.Setxattr(filepath.Join(d, "f"), "user.berth", []byte("v"), 0))
		must(t, unix.UtimesNano(filepath.Join(d, "f"), []unix.Timespec{mtime, mtime}))
	})
	h.layer("child", "base", func(d string) { write(t, filepath.Join(d, "other"), "o") })
	v := h.view("v", "child")
	defer h.unmount(v)

	var st, hard unix.Stat_t
	must(t, unix.Lstat(filepath.Join(v, "f"), &st))
	must(t, unix.Lstat(filepath.Join(v, "hard"), &hard))
	if st.Uid != 1234 || st.Gid != 5678 || st.Mode&07777 != 0o4750 || st.Mtim != mtime {
		t.Errorf("f: got uid %d gid %d mode %#o mtime %v, want 1234 5678 04750 %v", st.Uid, st.Gid, st.Mode&07777, st.Mtim, mtime)
	}
	if st.Ino != hard.Ino || st.Nlink != 2 {
		t.Errorf("hard: got inode %d (nlink %d), want the inode of f %d with nlink 2", hard.Ino, st.Nlink, st.Ino)
	}
	buf := make([]byte, 16)
	if n, err := unix.Getxattr(filepath.Join(v, "f"), "user.berth", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr user.berth: got %q, %v, want %q", buf[:n], err, "v")
	}
	if target, err := os.Readlink(filepath.Join(v, "link")); err != nil || target != "f" {
		t.Errorf("link: got %q, %v, want %q", target, err, "f")
	}
	var fifo, null unix.Stat_t
	must(t, unix.Lstat(filepath.Join(v, "fifo"), &fifo))
	must(t, unix.Lstat(filepath.Join(v, "null"), &null))
	if fifo.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo: got mode %#o, want a fifo", fifo.Mode)
	}
	if null.Mode&unix.S_IFMT != unix.S_IFCHR || null.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("null: got mode %#o rdev %#x, want char device 1:3", null.Mode, null.Rdev)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testStaging unpacks three layers as the pull pipeline does. With Rebase,
// all are prepared at once with no parent, deletions written as overlay
// whiteouts, and committed in order onto their parents; without, each is
// prepared on its committed parent and a commit onto another parent fails.
func testStaging(t *testing.T, h *harness) {
	testutil.RequireRoot(t)
	f := h.sn.Features()
	layers := []func(d string){
		func(d string) {
			write(t, filepath.Join(d, "keep"), "k")
			write(t, filepath.Join(d, "gone"), "g")
			write(t, filepath.Join(d, "dir/a"), "a")
			write(t, filepath.Join(d, "dir/b"), "b")
			write(t, filepath.Join(d, "opq/old"), "old")
		},
		func(d string) {
			if f.OverlayWhiteouts && f.Rebase {
				whiteout(t, filepath.Join(d, "gone"))
				opaque(t, filepath.Join(d, "opq"))
			} else {
				remove(t, filepath.Join(d, "gone"))
				remove(t, filepath.Join(d, "opq"))
			}
			write(t, filepath.Join(d, "opq/new"), "new")
		},
		func(d string) {
			if f.OverlayWhiteouts && f.Rebase {
				mkdir(t, filepath.Join(d, "dir"))
				whiteout(t, filepath.Join(d, "dir/a"))
			} else {
				remove(t, filepath.Join(d, "dir/a"))
			}
			write(t, filepath.Join(d, "keep"), "k3")
		},
	}
	if !f.Rebase {
		for i, change := range layers {
			h.layer(fmt.Sprint("l", i), parentName(i), change)
		}
		if _, err := h.sn.Prepare(h.ctx, "stage", ""); err != nil {
			t.Fatal(err)
		}
		err := h.sn.Commit(h.ctx, "rebased", "stage", snapshot.WithParent("l2"))
		wantErr(t, "Commit with another parent", err, errNotImplemented)
		must(t, h.sn.Commit(h.ctx, "same", "stage", snapshot.WithParent("")))
	} else {
		// Prepared at once, filled before any parent is committed.
		mounts := make([][]mount.Mount, len(layers))
		var wg sync.WaitGroup
		for i := range layers {
			wg.Go(func() {
				var err error
				if mounts[i], err = h.sn.Prepare(h.ctx, fmt.Sprint("stage", i), ""); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i := len(layers) - 1; i >= 0; i-- {
			d := h.mount(mounts[i])
			layers[i](d)
			h.unmount(d)
		}
		for i := range layers {
			must(t, h.sn.Commit(h.ctx, fmt.Sprint("l", i), fmt.Sprint("stage", i), snapshot.WithParent(parentName(i))))
		}
	}
	for i := range layers {
		if in, err := h.sn.Stat(h.ctx, fmt.Sprint("l", i)); err != nil || in.Parent != parentName(i) || in.Kind != snapshot.KindCommitted {
			t.Errorf("Stat l%d: got %+v, %v, want committed on %q", i, in, err, parentName(i))
		}
	}
	v := h.view("v", "l2")
	expect(t, v, map[string]string{"keep": "k3", "gone": "", "dir/a": "", "dir/b": "b", "opq/old": "", "opq/new": "new"})
	h.unmount(v)
}

func parentName(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprint("l", i-1)
}
