package nsexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInRoot checks the C init's in-root creation against a hostile
// rootfs: whatever its symlinks say, what is made stays inside it, where
// the container will see it (runtime/container/inroot.go does the same in
// Go).
func TestMakeInRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, l := range []struct{ name, target string }{
		{"abs", outside},               // absolute: means root's own outside, a dir that is not there
		{"up", "../../../../.."},       // climbs: stays at root
		{"dangling", "/made/by/link"},  // dangling, absolute
		{"rel-dangling", "sub/target"}, // dangling, relative
		{"loop", "/loop"},
		{"file-link", "/real-file"},
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rf, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	for _, tc := range []struct {
		path string
		dir  bool
		want string // inside root; "" for an error
		err  string
	}{
		{"/a/b/c", true, "/a/b/c", ""},
		{"/a/b/c", true, "/a/b/c", ""}, // exists already
		{"/abs/x", true, outside + "/x", ""},
		{"/up/y", true, "/y", ""},
		{"/../../z", true, "/z", ""},
		{"/dangling/d", true, "/made/by/link/d", ""},
		{"/rel-dangling", true, "/sub/target", ""},
		{"/loop/hosts", false, "", "mkdir /loop in rootfs: open in rootfs /loop: too many levels of symbolic links"},
		{"/file-link", false, "/real-file", ""},
		{"/afile/sub", true, "", "mkdir /afile in rootfs: open in rootfs /afile: not a directory"},
		{"/new-file", false, "/new-file", ""},
	} {
		got, err := makeInRoot(rf, tc.path, tc.dir)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("make %s: got %q, %v; want error %q", tc.path, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("make %s: %v", tc.path, err)
			continue
		}
		if want := filepath.Join(root, tc.want); got != want {
			t.Errorf("make %s: got %s, want %s", tc.path, got, want)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("%s got %d entries from inside the root, want none", outside, len(ents))
	}
}
