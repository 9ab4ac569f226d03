package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
)

// names lists the entry names of a tar stream.
func names(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func TestApplyPlain(t *testing.T) {
	s := newSandbox(t)
	if err := os.WriteFile(filepath.Join(s.dir, "keep"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := layer(t,
		dir("./", 0o700),
		file(".wh.keep", "plain file", 0o644),
		dir(".wh..wh.plnk/", 0o755),
		file(".wh..wh.plnk/x", "x", 0o644),
		file(".wh..wh..opq", "", 0o644),
		dir("etc/", 0o755),
		symlink("up", "../../etc"),
		file("up/passwd", "through the link", 0o644),
	)
	if _, err := Apply(context.Background(), s.dir, bytes.NewReader(l), baseOpts(Plain)); err != nil {
		t.Fatal(err)
	}
	s.check(t)
	got := tree(t, s.dir)
	for _, want := range []string{"keep", ".wh.keep", ".wh..wh.plnk/x", ".wh..wh..opq", "etc/passwd"} {
		if got[want].Type != "file" {
			t.Errorf("%s: got %v, want a file", want, got[want])
		}
	}
	// "./" leaves the target directory's mode alone.
	if i, _ := stat(t, s.dir); i.Mode != 0o755 {
		t.Errorf("target mode: got %v, want 0755", i.Mode)
	}
}

func TestApplyNoReplaceDirKind(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
		ent   ent
	}{
		{"file over dir", func(d string) error { return os.Mkdir(filepath.Join(d, "x"), 0o755) }, file("x", "f", 0o644)},
		{"symlink over dir", func(d string) error { return os.Mkdir(filepath.Join(d, "x"), 0o755) }, symlink("x", "y")},
		{"dir over file", func(d string) error { return os.WriteFile(filepath.Join(d, "x"), nil, 0o644) }, dir("x/", 0o755)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			if err := tt.setup(d); err != nil {
				t.Fatal(err)
			}
			opts := baseOpts(Plain)
			opts.NoReplaceDirKind = true
			_, err := Apply(context.Background(), d, bytes.NewReader(layer(t, tt.ent)), opts)
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("got %v, want ErrInvalidArgument", err)
			}
			opts.NoReplaceDirKind = false
			if _, err := Apply(context.Background(), d, bytes.NewReader(layer(t, tt.ent)), opts); err != nil {
				t.Errorf("without the option: got %v, want the entry replaced", err)
			}
		})
	}
}

func TestApplyOwner(t *testing.T) {
	if !isRoot() {
		t.Skip("chown needs root")
	}
	d := t.TempDir()
	opts := ApplyOptions{Whiteouts: Plain, Owner: &Owner{UID: 1234, GID: 5678}}
	l := layer(t, dir("d/", 0o755).owner(1, 1), file("d/f", "x", 0o644).owner(2, 2), symlink("l", "d").owner(3, 3))
	if _, err := Apply(context.Background(), d, bytes.NewReader(l), opts); err != nil {
		t.Fatal(err)
	}
	for name, i := range tree(t, d) {
		if i.UID != 1234 || i.GID != 5678 {
			t.Errorf("%s: got owner %d:%d, want 1234:5678", name, i.UID, i.GID)
		}
	}
}

func TestTarEntry(t *testing.T) {
	d := t.TempDir()
	for _, p := range []string{"top/sub"} {
		if err := os.MkdirAll(filepath.Join(d, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d, "top/sub/f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("top", filepath.Join(d, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, base, as string
		want          []string
	}{
		{d, "top", "top", []string{"top/", "top/sub/", "top/sub/f"}},
		{d, "top", "renamed", []string{"renamed/", "renamed/sub/", "renamed/sub/f"}},
		{filepath.Join(d, "top"), ".", ".", []string{"./", "./sub/", "./sub/f"}},
		{d, "link", "link", []string{"link"}},
		{filepath.Join(d, "top/sub"), "f", "g", []string{"g"}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := TarEntry(context.Background(), &b, tt.dir, tt.base, tt.as); err != nil {
			t.Fatalf("%s as %s: %v", tt.base, tt.as, err)
		}
		if got := names(t, b.Bytes()); !slices.Equal(got, tt.want) {
			t.Errorf("%s as %s: got %q, want %q", tt.base, tt.as, got, tt.want)
		}
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if err := TarEntry(context.Background(), io.Discard, d, bad, "x"); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("base %q: got %v, want ErrInvalidArgument", bad, err)
		}
	}
	if err := TarEntry(context.Background(), io.Discard, d, "missing", "x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: got %v, want ErrNotExist", err)
	}
}

func TestDiffWithExclude(t *testing.T) {
	d := t.TempDir()
	for _, p := range []string{"etc", "dev/pts"} {
		if err := os.MkdirAll(filepath.Join(d, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"etc/hosts", "etc/new", "dev/pts/x"} {
		if err := os.WriteFile(filepath.Join(d, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	skip := map[string]bool{"etc/hosts": true, "dev": true}
	var b bytes.Buffer
	if err := DiffWith(context.Background(), &b, d, DiffOptions{Exclude: func(n string) bool { return skip[n] }}); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, b.Bytes()), []string{"etc/", "etc/new"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
