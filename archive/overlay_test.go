package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"golang.org/x/sys/unix"
)

// mountOverlay mounts an overlay at a new directory and unmounts it when
// the test ends.
func mountOverlay(t *testing.T, opts string, flags uintptr) string {
	t.Helper()
	mnt := t.TempDir()
	err := unix.Mount("overlay", mnt, "overlay", flags, opts+",redirect_dir=off,index=off,metacopy=off")
	if err == unix.EINVAL {
		err = unix.Mount("overlay", mnt, "overlay", flags, opts)
	}
	if err != nil {
		testutil.Skip(t, "cannot mount overlay: "+err.Error())
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	return mnt
}

// comparable drops what two equivalent trees may differ in: inode numbers,
// link counts and directory times.
func comparable(m map[string]info) map[string]string {
	out := map[string]string{}
	for k, i := range m {
		if i.Type == "dir" {
			i.Mtime = 0
		}
		out[k] = i.String()
	}
	return out
}

func compareTrees(t *testing.T, gotName string, got map[string]info, wantName string, want map[string]info) {
	t.Helper()
	g, w := comparable(got), comparable(want)
	for k, wi := range w {
		if gi, ok := g[k]; !ok {
			t.Errorf("%s: in %s, not in %s", k, wantName, gotName)
		} else if gi != wi {
			t.Errorf("%s:\n %s: %s\n %s: %s", k, gotName, gi, wantName, wi)
		}
	}
	for k, gi := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: in %s (%s), not in %s", k, gotName, gi, wantName)
		}
	}
}

func baseLayer() []ent {
	return []ent{
		dir0("etc"), file("etc/passwd", "root:x:0:0", 0o644), file("etc/shadow", "secret", 0o600), file("etc/keep", "k", 0o644),
		dir0("usr"), dir0("usr/lib"), file("usr/lib/a.so", "a", 0o755), dir0("usr/lib/sub"), file("usr/lib/sub/b", "b", 0o644),
		dir0("opt"), file("opt/old", "o", 0o644), dir0("opt/olddir"), file("opt/olddir/x", "x", 0o644),
		dir0("replace"), file("replace/x", "x", 0o644),
		file("tofile", "f", 0o644), dir0("todir"), file("todir/y", "y", 0o644),
		dir("var", 0o755).owner(0, 0), symlink("var/run", "/run"),
	}
}

func changeLayer() []ent {
	return []ent{
		dir0("etc"), whiteout("etc/.wh.shadow"), file("etc/passwd", "root:x:0:0\nuser:x:1000", 0o600),
		whiteout(".wh.usr"),
		dir("opt", 0o700), whiteout("opt/.wh..wh..opq"), file("opt/new", "n", 0o644),
		whiteout(".wh.replace"), dir0("replace"), file("replace/z", "z", 0o644),
		dir0("tofile"), file("tofile/in", "i", 0o644),
		file("todir", "now a file", 0o644),
		dir0("new"), dir0("new/deep"), file("new/deep/f", "f", 0o644).owner(1000, 1000),
	}
}

// TestOverlayMatchesDelete applies the same two layers as overlay upper
// directories (mounted as an overlay) and by deletion into one directory:
// the two trees must be the same.
func TestOverlayMatchesDelete(t *testing.T) {
	testutil.RequireRoot(t)
	lower, upper, copied := t.TempDir(), t.TempDir(), t.TempDir()
	for _, step := range []struct {
		dir  string
		mode WhiteoutMode
		ents []ent
	}{
		{lower, Overlay, baseLayer()}, {upper, Overlay, changeLayer()},
		{copied, Delete, baseLayer()}, {copied, Delete, changeLayer()},
	} {
		if err := apply(t, step.dir, ApplyOptions{Whiteouts: step.mode}, step.ents...); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	mnt := mountOverlay(t, "lowerdir="+upper+":"+lower, unix.MS_RDONLY)
	compareTrees(t, "overlay", tree(t, mnt), "delete", tree(t, copied))
}

// TestDiffOfOverlay changes a mounted overlay as a container would, turns
// its upper directory into a layer with Diff, and applies that layer by
// deletion over the lower one: the result must be what the overlay showed.
func TestDiffOfOverlay(t *testing.T) {
	testutil.RequireRoot(t)
	lower, upper, work := t.TempDir(), t.TempDir(), t.TempDir()
	if err := apply(t, lower, ApplyOptions{Whiteouts: Overlay}, baseLayer()...); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	mnt := mountOverlay(t, "lowerdir="+lower+",upperdir="+upper+",workdir="+work, 0)
	p := func(n string) string { return filepath.Join(mnt, n) }
	for _, step := range []func() error{
		func() error { return os.Remove(p("etc/shadow")) },
		func() error { return os.WriteFile(p("etc/passwd"), []byte("changed"), 0o644) },
		func() error { return os.Chmod(p("etc/keep"), 0o600) },
		func() error { return os.RemoveAll(p("usr")) },
		func() error { return os.RemoveAll(p("opt")) },
		func() error { return os.Mkdir(p("opt"), 0o700) }, // over a removed lower dir: opaque
		func() error { return os.WriteFile(p("opt/new"), []byte("n"), 0o644) },
		func() error { return os.Remove(p("tofile")) },
		func() error { return os.Mkdir(p("tofile"), 0o755) },
		func() error { return os.RemoveAll(p("todir")) },
		func() error { return os.WriteFile(p("todir"), []byte("file"), 0o644) },
		func() error { return os.MkdirAll(p("new/deep"), 0o755) },
		func() error { return os.Link(p("etc/keep"), p("new/deep/link")) },
		func() error { return unix.Mkfifo(p("new/fifo"), 0o600) },
		func() error { return os.Symlink("../etc", p("new/etc")) },
		func() error { return unix.Setxattr(p("new/deep"), "user.k", []byte("v"), 0) },
	} {
		if err := step(); err != nil {
			t.Fatalf("change the overlay: %v", err)
		}
	}
	merged := tree(t, mnt)
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	var diff bytes.Buffer
	if err := Diff(context.Background(), &diff, upper); err != nil {
		t.Fatalf("Diff: %v", err)
	}
	got := entries(t, diff.Bytes())
	for _, w := range []string{".wh.usr", "etc/.wh.shadow", "opt/.wh..wh..opq"} {
		if _, ok := got[w]; !ok {
			t.Errorf("diff lacks %s", w)
		}
	}
	copied := t.TempDir()
	if err := apply(t, copied, ApplyOptions{Whiteouts: Delete}, baseLayer()...); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(context.Background(), copied, &diff, ApplyOptions{Whiteouts: Delete}); err != nil {
		t.Fatalf("Apply the diff: %v", err)
	}
	compareTrees(t, "diff applied", tree(t, copied), "overlay", merged)
}
