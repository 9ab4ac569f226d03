package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/containerd/errdefs"
)

func apply(t testing.TB, dir string, opts ApplyOptions, ents ...ent) error {
	t.Helper()
	_, err := Apply(context.Background(), dir, bytes.NewReader(layer(t, ents...)), opts)
	return err
}

// want is an expected entry: fields left empty are not compared.
type want struct {
	typ    string
	mode   fs.FileMode
	uid    int
	gid    int
	data   string
	xattrs string
	mtime  int64
}

func checkEntry(t *testing.T, root, name string, w want) {
	t.Helper()
	got, ok := stat(t, filepath.Join(root, name))
	if !ok {
		t.Errorf("%s: missing, want %s", name, w.typ)
		return
	}
	if got.Type != w.typ {
		t.Errorf("%s: got type %s, want %s", name, got.Type, w.typ)
	}
	if w.mode != 0 && got.Mode != w.mode {
		t.Errorf("%s: got mode %v, want %v", name, got.Mode, w.mode)
	}
	if (w.uid != 0 || w.gid != 0) && (got.UID != w.uid || got.GID != w.gid) {
		t.Errorf("%s: got owner %d:%d, want %d:%d", name, got.UID, got.GID, w.uid, w.gid)
	}
	if w.data != "" && got.Data != w.data {
		t.Errorf("%s: got data %q, want %q", name, got.Data, w.data)
	}
	if w.xattrs != "" && got.Xattrs != w.xattrs {
		t.Errorf("%s: got xattrs %q, want %q", name, got.Xattrs, w.xattrs)
	}
	if w.mtime != 0 && got.Mtime != w.mtime {
		t.Errorf("%s: got mtime %d, want %d", name, got.Mtime, w.mtime)
	}
}

func TestApplyEntryTypes(t *testing.T) {
	later := epoch.Add(time.Hour)
	tests := []struct {
		name  string
		root  bool
		ents  []ent
		check map[string]want
	}{
		{
			name:  "regular file",
			ents:  []ent{file("f", "hello", 0o640)},
			check: map[string]want{"f": {typ: "file", mode: 0o640, data: digest([]byte("hello")), mtime: epoch.Unix()}},
		},
		{
			name:  "empty file",
			ents:  []ent{file("e", "", 0o600)},
			check: map[string]want{"e": {typ: "file", mode: 0o600, data: digest(nil)}},
		},
		{
			name:  "setuid setgid sticky",
			ents:  []ent{file("su", "x", 0o4755), file("sg", "x", 0o2711), dir("tmp", 0o1777)},
			check: map[string]want{"su": {typ: "file", mode: 0o755 | fs.ModeSetuid}, "sg": {typ: "file", mode: 0o711 | fs.ModeSetgid}, "tmp": {typ: "dir", mode: 0o777 | fs.ModeSticky}},
		},
		{
			name: "directory times set after content",
			ents: []ent{dir("d", 0o750).mtime(later), file("d/f", "x", 0o644), dir("d/sub", 0o755), file("d/sub/g", "y", 0o644)},
			check: map[string]want{
				"d":       {typ: "dir", mode: 0o750, mtime: later.Unix()},
				"d/sub":   {typ: "dir", mtime: epoch.Unix()},
				"d/sub/g": {typ: "file", data: digest([]byte("y"))},
			},
		},
		{
			name:  "missing parents are made",
			ents:  []ent{file("a/b/c/f", "x", 0o644)},
			check: map[string]want{"a": {typ: "dir", mode: 0o755}, "a/b/c": {typ: "dir", mode: 0o755}, "a/b/c/f": {typ: "file"}},
		},
		{
			name:  "symlinks, dangling and absolute",
			ents:  []ent{symlink("rel", "target"), symlink("abs", "/etc/passwd"), symlink("up", "../../x")},
			check: map[string]want{"rel": {typ: "symlink", data: "target", mtime: epoch.Unix()}, "abs": {typ: "symlink", data: "/etc/passwd"}, "up": {typ: "symlink", data: "../../x"}},
		},
		{
			name:  "fifo",
			ents:  []ent{node(tar.TypeFifo, "p", 0, 0)},
			check: map[string]want{"p": {typ: "fifo", mode: 0o640}},
		},
		{
			name:  "absolute and dotted names",
			ents:  []ent{file("/abs", "x", 0o644), file("./dot", "y", 0o644), file("a/./b/../c", "z", 0o644)},
			check: map[string]want{"abs": {typ: "file"}, "dot": {typ: "file"}, "a/c": {typ: "file"}},
		},
		{
			name:  "user xattr",
			ents:  []ent{file("x", "x", 0o644).xattr("user.k", "v"), dir("d", 0o755).xattr("user.d", "w")},
			check: map[string]want{"x": {typ: "file", xattrs: "user.k=v"}, "d": {typ: "dir", xattrs: "user.d=w"}},
		},
		{
			name:  "overlay xattrs in a layer are dropped",
			ents:  []ent{dir("d", 0o755).xattr("trusted.overlay.opaque", "y").xattr("user.overlay.redirect", "/x").xattr("user.k", "v")},
			check: map[string]want{"d": {typ: "dir", xattrs: "user.k=v"}},
		},
		{
			name:  "root entry sets the root's mode",
			ents:  []ent{dir("./", 0o711), file("f", "x", 0o644)},
			check: map[string]want{".": {typ: "dir", mode: 0o711, mtime: epoch.Unix()}},
		},
		{
			name: "owners",
			root: true,
			ents: []ent{file("f", "x", 0o644).owner(1234, 5678), dir("d", 0o755).owner(1, 2), symlink("l", "f").owner(3, 4), node(tar.TypeFifo, "p", 0, 0).owner(5, 6)},
			check: map[string]want{
				"f": {typ: "file", uid: 1234, gid: 5678}, "d": {typ: "dir", uid: 1, gid: 2},
				"l": {typ: "symlink", uid: 3, gid: 4}, "p": {typ: "fifo", uid: 5, gid: 6},
			},
		},
		{
			name:  "setuid survives chown",
			root:  true,
			ents:  []ent{file("su", "x", 0o4755).owner(1000, 1000)},
			check: map[string]want{"su": {typ: "file", mode: 0o755 | fs.ModeSetuid, uid: 1000, gid: 1000}},
		},
		{
			name:  "devices",
			root:  true,
			ents:  []ent{node(tar.TypeChar, "null", 1, 3), node(tar.TypeBlock, "loop", 7, 1000)},
			check: map[string]want{"null": {typ: "char", data: "1:3", mode: 0o640}, "loop": {typ: "block", data: "7:1000"}},
		},
		{
			name: "file capabilities and trusted xattrs survive chown",
			root: true,
			// cap_net_raw+ep, VFS_CAP_REVISION_2.
			ents: []ent{file("ping", "elf", 0o755).owner(1000, 1000).
				xattr("security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00").
				xattr("trusted.k", "v")},
			check: map[string]want{"ping": {typ: "file", uid: 1000, gid: 1000, xattrs: "security.capability=\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00,trusted.k=v"}},
		},
		{
			name:  "trusted xattr on symlink",
			root:  true,
			ents:  []ent{symlink("l", "t").xattr("trusted.k", "v").xattr("user.k", "skipped")},
			check: map[string]want{"l": {typ: "symlink", xattrs: "trusted.k=v"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testutil.RequireRoot(t)
			}
			for _, mode := range []WhiteoutMode{Overlay, Delete} {
				dir := t.TempDir()
				if err := apply(t, dir, baseOpts(mode), tt.ents...); err != nil {
					t.Fatalf("%v: Apply: %v", mode, err)
				}
				for name, w := range tt.check {
					checkEntry(t, dir, name, w)
				}
			}
		})
	}
}

func TestApplyHardlinks(t *testing.T) {
	dir := t.TempDir()
	err := apply(t, dir, baseOpts(Overlay),
		file("a/f", "data", 0o644), hardlink("b/g", "a/f"), hardlink("h", "/a/f"),
		symlink("s", "a/f"), hardlink("hs", "s"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	f, _ := stat(t, filepath.Join(dir, "a/f"))
	for _, n := range []string{"b/g", "h"} {
		g, _ := stat(t, filepath.Join(dir, n))
		if g.Ino != f.Ino {
			t.Errorf("%s: got inode %d, want %d (a/f)", n, g.Ino, f.Ino)
		}
	}
	if f.Nlink != 3 {
		t.Errorf("a/f: got %d links, want 3", f.Nlink)
	}
	// A hard link to a symlink links the symlink, not its target.
	s, _ := stat(t, filepath.Join(dir, "s"))
	hs, _ := stat(t, filepath.Join(dir, "hs"))
	if hs.Type != "symlink" || hs.Ino != s.Ino {
		t.Errorf("hs: got %s inode %d, want symlink inode %d", hs.Type, hs.Ino, s.Ino)
	}
}

func TestApplyOverwrite(t *testing.T) {
	tests := []struct {
		name   string
		ents   []ent
		check  map[string]want
		absent []string
	}{
		{
			name:  "file over file",
			ents:  []ent{file("f", "old", 0o644), file("f", "new", 0o600)},
			check: map[string]want{"f": {typ: "file", mode: 0o600, data: digest([]byte("new"))}},
		},
		{
			name:   "file over directory removes the tree",
			ents:   []ent{dir("d", 0o755), file("d/a", "x", 0o644), dir("d/sub", 0o755), file("d/sub/b", "y", 0o644), file("d", "now a file", 0o644)},
			check:  map[string]want{"d": {typ: "file", data: digest([]byte("now a file"))}},
			absent: []string{"d/a", "d/sub"},
		},
		{
			name:  "directory over directory merges",
			ents:  []ent{dir("d", 0o755), file("d/a", "x", 0o644), dir("d", 0o700), file("d/b", "y", 0o644)},
			check: map[string]want{"d": {typ: "dir", mode: 0o700}, "d/a": {typ: "file"}, "d/b": {typ: "file"}},
		},
		{
			name:  "directory over file",
			ents:  []ent{file("d", "x", 0o644), dir("d", 0o755), file("d/a", "y", 0o644)},
			check: map[string]want{"d": {typ: "dir"}, "d/a": {typ: "file"}},
		},
		{
			name:  "symlink over file",
			ents:  []ent{file("l", "x", 0o644), symlink("l", "elsewhere")},
			check: map[string]want{"l": {typ: "symlink", data: "elsewhere"}},
		},
		{
			name:  "file over symlink replaces the link, not its target",
			ents:  []ent{file("target", "keep", 0o644), symlink("l", "target"), file("l", "new", 0o644)},
			check: map[string]want{"l": {typ: "file", data: digest([]byte("new"))}, "target": {typ: "file", data: digest([]byte("keep"))}},
		},
		{
			name:  "directory over symlink to a directory",
			ents:  []ent{dir("real", 0o755), file("real/a", "x", 0o644), symlink("l", "real"), dir("l", 0o700)},
			check: map[string]want{"l": {typ: "dir", mode: 0o700}, "real/a": {typ: "file"}},
		},
		{
			name:  "hard link over file",
			ents:  []ent{file("a", "a", 0o644), file("b", "b", 0o644), hardlink("b", "a")},
			check: map[string]want{"b": {typ: "file", data: digest([]byte("a"))}},
		},
		{
			name:  "fifo over directory",
			ents:  []ent{dir("p", 0o755), file("p/x", "x", 0o644), node(tar.TypeFifo, "p", 0, 0)},
			check: map[string]want{"p": {typ: "fifo"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []WhiteoutMode{Overlay, Delete} {
				dir := t.TempDir()
				if err := apply(t, dir, baseOpts(mode), tt.ents...); err != nil {
					t.Fatalf("%v: Apply: %v", mode, err)
				}
				for name, w := range tt.check {
					checkEntry(t, dir, name, w)
				}
				for _, name := range tt.absent {
					if _, ok := stat(t, filepath.Join(dir, name)); ok {
						t.Errorf("%v: %s: present, want absent", mode, name)
					}
				}
			}
		})
	}
}

func TestApplyOverExistingTree(t *testing.T) {
	// Delete mode: the directory holds a copy of the lower layers.
	dir := t.TempDir()
	if err := apply(t, dir, baseOpts(Delete), dir0("etc"), file("etc/a", "lower", 0o644), dir0("usr"), file("usr/x", "x", 0o644)); err != nil {
		t.Fatal(err)
	}
	if err := apply(t, dir, baseOpts(Delete), file("etc/a", "upper", 0o600), file("usr", "file now", 0o644)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	checkEntry(t, dir, "etc/a", want{typ: "file", mode: 0o600, data: digest([]byte("upper"))})
	checkEntry(t, dir, "usr", want{typ: "file"})
}

func dir0(name string) ent { return dir(name, 0o755) }

func TestApplyStats(t *testing.T) {
	data := layer(t, dir0("d"), file("d/f", strings.Repeat("x", 1000), 0o644), whiteout("d/.wh.g"))
	// Trailing padding after the tar trailer, as some writers add.
	data = append(data, make([]byte, 3000)...)
	stats, err := Apply(context.Background(), t.TempDir(), bytes.NewReader(data), baseOpts(Delete))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if stats.Size != int64(len(data)) || stats.Entries != 3 {
		t.Errorf("got %+v, want Size %d Entries 3", stats, len(data))
	}
}

func TestApplyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Apply(ctx, t.TempDir(), bytes.NewReader(layer(t, file("f", "x", 0o644))), baseOpts(Overlay))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestApplyBadOptions(t *testing.T) {
	_, err := Apply(context.Background(), t.TempDir(), bytes.NewReader(nil), ApplyOptions{Whiteouts: 7})
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("got %v, want ErrInvalidArgument", err)
	}
	_, err = Apply(context.Background(), filepath.Join(t.TempDir(), "missing"), bytes.NewReader(nil), ApplyOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: got %v, want ErrNotExist", err)
	}
}
