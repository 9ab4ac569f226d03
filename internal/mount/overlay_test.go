package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"golang.org/x/sys/unix"
)

// deepLayers makes n lower dirs whose paths are each about pathLen bytes long,
// layer i holding file "i" and all of them file "top" (the nearest wins).
// It returns them nearest first, as lowerdir lists them.
func deepLayers(t *testing.T, base string, n, pathLen int) []string {
	t.Helper()
	pad := pathLen - len(base) - len("/layer-000") - 1
	if pad < 1 {
		pad = 1
	}
	long := filepath.Join(base, strings.Repeat("d", min(pad, 200)))
	if pad > 200 {
		long = filepath.Join(long, strings.Repeat("e", pad-201))
	}
	dirs := make([]string, n)
	for i := range n {
		d := filepath.Join(long, fmt.Sprintf("layer-%03d", i))
		writeFile(t, filepath.Join(d, fmt.Sprint(i)), fmt.Sprint(i))
		writeFile(t, filepath.Join(d, "top"), fmt.Sprint(i))
		dirs[n-1-i] = d
	}
	return dirs
}

func overlayOptions(lowers []string, upper, work string) []string {
	esc := make([]string, len(lowers))
	for i, l := range lowers {
		esc[i] = escapeLowerdir(l)
	}
	opts := []string{"lowerdir=" + strings.Join(esc, ":")}
	if upper != "" {
		opts = append(opts, "upperdir="+upper, "workdir="+work)
	}
	return opts
}

func TestOverlayDeep(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		name    string
		n       int
		pathLen int
		classic bool
	}{
		{"fsconfig 150 layers 220-byte paths", 150, 220, false},
		{"fsconfig 20 layers 300-byte paths", 20, 300, false},
		{"mount(2) 150 layers 220-byte paths", 150, 220, true},
		{"mount(2) 3 layers", 3, 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			lowers := deepLayers(t, dir, tt.n, tt.pathLen)
			if l := len(lowers[0]); l < tt.pathLen-2 {
				t.Fatalf("layer path is %d bytes, want about %d", l, tt.pathLen)
			}
			// upper and work beside the layers, as a snapshotter lays them out
			base := filepath.Dir(lowers[0])
			upper, work, target := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(dir, "mnt")
			mkdirs(t, upper, work, target)
			m := Mount{Type: "overlay", Source: "overlay", Options: overlayOptions(lowers, upper, work)}
			if len(strings.Join(m.Options, ",")) < pageSize && tt.n > 100 {
				t.Fatalf("options fit in a page; the test must exceed it")
			}
			var err error
			if tt.classic {
				err = overlayClassic(m.Source, target, parseOptions(m.Options))
			} else {
				err = All([]Mount{m}, target)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer UnmountAll(target)
			if got, want := readFile(t, filepath.Join(target, "top")), fmt.Sprint(tt.n-1); got != want {
				t.Errorf("top: got %q, want %q (nearest layer wins)", got, want)
			}
			for _, i := range []int{0, tt.n / 2, tt.n - 1} {
				if got := readFile(t, filepath.Join(target, fmt.Sprint(i))); got != fmt.Sprint(i) {
					t.Errorf("file %d: got %q, want %q", i, got, fmt.Sprint(i))
				}
			}
			writeFile(t, filepath.Join(target, "new"), "rw")
			if got := readFile(t, filepath.Join(upper, "new")); got != "rw" {
				t.Errorf("upper/new: got %q, want %q", got, "rw")
			}
			if err := Unmount(target); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOverlayReadOnlyAndErrors(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempDir(t)
	lowers := deepLayers(t, dir, 2, 40)
	target := filepath.Join(dir, "mnt")
	mkdirs(t, target)
	if err := All([]Mount{{Type: "overlay", Source: "overlay", Options: overlayOptions(lowers, "", "")}}, target); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("write to an overlay without upper: got %v, want EROFS", err)
	}
	if err := Unmount(target); err != nil {
		t.Fatal(err)
	}

	missing := filepath.Join(dir, "no-such-layer")
	err := All([]Mount{{Type: "overlay", Source: "overlay", Options: overlayOptions(append(lowers, missing), "", "")}}, target)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), target) {
		t.Errorf("overlay with a missing layer: got %v, want an error naming %s and %s", err, missing, target)
	}
}
