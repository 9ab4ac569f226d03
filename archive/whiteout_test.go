package archive

import (
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

const opaqueXattr = "trusted.overlay.opaque=y"

func TestApplyWhiteoutsOverlay(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		name   string
		ents   []ent
		check  map[string]want
		absent []string
	}{
		{
			name:   "whiteout becomes a 0:0 device",
			ents:   []ent{whiteout(".wh.x"), dir0("d"), whiteout("d/.wh.y")},
			check:  map[string]want{"x": {typ: "whiteout"}, "d/y": {typ: "whiteout"}},
			absent: []string{".wh.x", "d/.wh.y"},
		},
		{
			name:   "opaque directory",
			ents:   []ent{dir0("d"), whiteout("d/.wh..wh..opq"), file("d/new", "x", 0o644)},
			check:  map[string]want{"d": {typ: "dir", xattrs: opaqueXattr}, "d/new": {typ: "file"}},
			absent: []string{"d/.wh..wh..opq"},
		},
		{
			name:  "opaque marker before its directory entry",
			ents:  []ent{whiteout("d/.wh..wh..opq"), dir("d", 0o700)},
			check: map[string]want{"d": {typ: "dir", mode: 0o700, xattrs: opaqueXattr}},
		},
		{
			name:  "opaque root",
			ents:  []ent{whiteout(".wh..wh..opq"), file("f", "x", 0o644)},
			check: map[string]want{".": {typ: "dir", xattrs: opaqueXattr}, "f": {typ: "file"}},
		},
		{
			name:  "whiteout spares its own layer's file",
			ents:  []ent{file("f", "mine", 0o644), whiteout(".wh.f")},
			check: map[string]want{"f": {typ: "file", data: digest([]byte("mine"))}},
		},
		{
			name:  "file after its whiteout",
			ents:  []ent{whiteout(".wh.f"), file("f", "mine", 0o644)},
			check: map[string]want{"f": {typ: "file", data: digest([]byte("mine"))}},
		},
		{
			name:  "directory after its whiteout is opaque",
			ents:  []ent{whiteout(".wh.d"), dir0("d"), file("d/x", "x", 0o644)},
			check: map[string]want{"d": {typ: "dir", xattrs: opaqueXattr}, "d/x": {typ: "file"}},
		},
		{
			name:  "whiteout after its directory makes it opaque",
			ents:  []ent{dir0("d"), file("d/x", "x", 0o644), whiteout(".wh.d")},
			check: map[string]want{"d": {typ: "dir", xattrs: opaqueXattr}, "d/x": {typ: "file"}},
		},
		{
			name:  "whiteout in a directory the layer does not list",
			ents:  []ent{whiteout("a/b/.wh.c")},
			check: map[string]want{"a/b": {typ: "dir", mode: 0o755}, "a/b/c": {typ: "whiteout"}},
		},
		{
			name:   "AUFS metadata is skipped",
			ents:   []ent{dir0(".wh..wh.plnk"), file(".wh..wh.plnk/123.456", "x", 0o644), file(".wh..wh.aufs", "", 0o644)},
			absent: []string{".wh..wh.plnk", "123.456", ".wh..wh.aufs", "aufs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := apply(t, dir, ApplyOptions{Whiteouts: Overlay}, tt.ents...); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for name, w := range tt.check {
				checkEntry(t, dir, name, w)
			}
			for _, name := range tt.absent {
				if _, ok := stat(t, filepath.Join(dir, name)); ok {
					t.Errorf("%s: present, want absent", name)
				}
			}
		})
	}
}

func TestApplyWhiteoutsDelete(t *testing.T) {
	tests := []struct {
		name    string
		lower   []ent
		ents    []ent
		present []string
		absent  []string
	}{
		{
			name:    "whiteout removes a file",
			lower:   []ent{file("f", "x", 0o644), file("g", "x", 0o644)},
			ents:    []ent{whiteout(".wh.f")},
			present: []string{"g"},
			absent:  []string{"f", ".wh.f"},
		},
		{
			name:   "whiteout removes a tree",
			lower:  []ent{dir0("d"), file("d/x", "x", 0o644), dir0("d/sub"), file("d/sub/y", "y", 0o644)},
			ents:   []ent{whiteout(".wh.d")},
			absent: []string{"d"},
		},
		{
			name:   "whiteout of nothing",
			ents:   []ent{whiteout(".wh.none"), whiteout("a/.wh.b")},
			absent: []string{"none", "a"},
		},
		{
			name:    "whiteout spares its own layer's file",
			lower:   []ent{file("f", "lower", 0o644)},
			ents:    []ent{file("f", "mine", 0o644), whiteout(".wh.f")},
			present: []string{"f"},
		},
		{
			name:    "file after its whiteout",
			lower:   []ent{dir0("f"), file("f/x", "x", 0o644)},
			ents:    []ent{whiteout(".wh.f"), file("f", "mine", 0o644)},
			present: []string{"f"},
		},
		{
			name:    "whiteout after a merged directory hides the lower content",
			lower:   []ent{dir0("d"), file("d/old", "x", 0o644)},
			ents:    []ent{dir0("d"), file("d/new", "x", 0o644), whiteout(".wh.d")},
			present: []string{"d/new"},
			absent:  []string{"d/old"},
		},
		{
			name:    "opaque before the new content",
			lower:   []ent{dir0("d"), file("d/old", "x", 0o644), dir0("d/olddir"), file("d/olddir/o", "o", 0o644)},
			ents:    []ent{dir0("d"), whiteout("d/.wh..wh..opq"), file("d/new", "x", 0o644)},
			present: []string{"d/new"},
			absent:  []string{"d/old", "d/olddir", "d/.wh..wh..opq"},
		},
		{
			name:    "opaque after the new content",
			lower:   []ent{dir0("d"), file("d/old", "x", 0o644), dir0("d/keep"), file("d/keep/o", "o", 0o644)},
			ents:    []ent{dir0("d"), file("d/new", "x", 0o644), dir0("d/keep"), file("d/keep/n", "n", 0o644), whiteout("d/.wh..wh..opq")},
			present: []string{"d/new", "d/keep/n"},
			absent:  []string{"d/old", "d/keep/o"},
		},
		{
			name:    "opaque root",
			lower:   []ent{file("a", "a", 0o644), dir0("b"), file("b/c", "c", 0o644)},
			ents:    []ent{whiteout(".wh..wh..opq"), file("n", "n", 0o644)},
			present: []string{"n"},
			absent:  []string{"a", "b"},
		},
		{
			name:    "whiteout through a symlink in the tree",
			lower:   []ent{dir0("real"), file("real/x", "x", 0o644), file("real/y", "y", 0o644), symlink("link", "/real")},
			ents:    []ent{whiteout("link/.wh.x")},
			present: []string{"real/y", "link"},
			absent:  []string{"real/x"},
		},
		{
			name:    "missing parents made by the layer survive its opaque marker",
			lower:   []ent{dir0("d"), file("d/old", "x", 0o644)},
			ents:    []ent{file("d/a/b/new", "x", 0o644), whiteout("d/.wh..wh..opq")},
			present: []string{"d/a/b/new"},
			absent:  []string{"d/old"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := apply(t, dir, baseOpts(Delete), tt.lower...); err != nil {
				t.Fatalf("Apply lower: %v", err)
			}
			if err := apply(t, dir, baseOpts(Delete), tt.ents...); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for _, name := range tt.present {
				if _, ok := stat(t, filepath.Join(dir, name)); !ok {
					t.Errorf("%s: absent, want present", name)
				}
			}
			for _, name := range tt.absent {
				if _, ok := stat(t, filepath.Join(dir, name)); ok {
					t.Errorf("%s: present, want absent", name)
				}
			}
		})
	}
}
