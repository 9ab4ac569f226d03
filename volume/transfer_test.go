package volume

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testutil"
)

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seeds in testdata/fuzz")

// fillVolume writes a small tree: files, a nested directory, a symlink,
// a hard link, modes.
func fillVolume(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "sub", "deep"), 0o750))
	must(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "deep", "b.bin"), bytes.Repeat([]byte{0, 1, 2}, 1000), 0o600))
	must(os.WriteFile(filepath.Join(dir, "empty"), nil, 0o640))
	must(os.WriteFile(filepath.Join(dir, ".wh.a.txt"), []byte("not a whiteout"), 0o644))
	must(os.Symlink("../a.txt", filepath.Join(dir, "sub", "link")))
	must(os.Link(filepath.Join(dir, "a.txt"), filepath.Join(dir, "sub", "hard")))
}

// tree lists a directory's entries with their types, modes and
// contents.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		line := rel + " " + fi.Mode().String()
		switch {
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + string(b)
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + l
		}
		out = append(out, line)
		return nil
	})
	return out
}

func exportOf(t *testing.T, s *Service, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Export(context.Background(), name, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportImport(t *testing.T) {
	testutil.RequireRoot(t) // Apply keeps owners
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	s.Create(ctx, volume.CreateRequest{Name: "src"})
	fillVolume(t, s.dataDir("src"))
	os.Chmod(s.dataDir("src"), 0o711)
	data := exportOf(t, s, "src")
	if *updateSeeds {
		writeSeed(t, "valid-export", data)
	}

	// Any tar tool reads it: data/... then MANIFEST.json last.
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if names[0] != "data/" || names[len(names)-1] != manifestName {
		t.Errorf("export entries: got %v, want data/ first and %s last", names, manifestName)
	}

	// Into a new volume, and over an existing one's content.
	if err := s.Import(ctx, "copy", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s.Create(ctx, volume.CreateRequest{Name: "over"})
	os.WriteFile(filepath.Join(s.dataDir("over"), "stale"), []byte("x"), 0o644)
	if err := s.Import(ctx, "over", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	want := tree(t, s.dataDir("src"))
	for _, v := range []string{"copy", "over"} {
		if got := tree(t, s.dataDir(v)); !slices.Equal(got, want) {
			t.Errorf("imported %s: got\n%s\nwant\n%s", v, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if ents, _ := os.ReadDir(s.volDir("over")); len(ents) != 1 {
		t.Errorf("volume directory after import: got %d entries, want _data only", len(ents))
	}

	// In use: refused.
	s.Use(ctx, "over", "c1", nil)
	if err := s.Import(ctx, "over", bytes.NewReader(data)); !errdefs.IsConflict(err) {
		t.Errorf("import into a volume in use: got %v, want a conflict", err)
	}
}

func TestImportCorrupt(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	s.Create(ctx, volume.CreateRequest{Name: "src"})
	fillVolume(t, s.dataDir("src"))
	data := exportOf(t, s, "src")

	flip := func(needle string) []byte {
		b := bytes.Clone(data)
		i := bytes.Index(b, []byte(needle))
		if i < 0 {
			t.Fatalf("%q not in the export", needle)
		}
		b[i] ^= 0x20
		return b
	}
	var noManifest bytes.Buffer
	tw := tar.NewWriter(&noManifest)
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil || h.Name == manifestName {
			break
		}
		tw.WriteHeader(h)
		io.Copy(tw, tr)
	}
	tw.Close()
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"a file's content", flip("alpha"), `file "a.txt": checksum mismatch`},
		{"truncated", data[:len(data)/2], ""},
		{"no manifest", noManifest.Bytes(), "archive has no MANIFEST.json"},
		{"not a tar", []byte("hello, this is not an archive at all"), ""},
	} {
		s.Create(ctx, volume.CreateRequest{Name: "dst"})
		os.WriteFile(filepath.Join(s.dataDir("dst"), "keep"), []byte("mine"), 0o644)
		err := s.Import(ctx, "dst", bytes.NewReader(tc.in))
		if err == nil || !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an invalid argument error with %q", tc.name, err, tc.want)
		}
		if got := tree(t, s.dataDir("dst")); !slices.Equal(got, []string{". drwxr-xr-x", "keep -rw-r--r-- mine"}) {
			t.Errorf("%s: the volume changed: %v", tc.name, got)
		}
		if ents, _ := os.ReadDir(s.volDir("dst")); len(ents) != 1 {
			t.Errorf("%s: leftovers beside _data: %v", tc.name, ents)
		}
		// A volume the failed import created is gone again.
		if err := s.Import(ctx, "fresh", bytes.NewReader(tc.in)); err == nil {
			t.Errorf("%s: import into a new volume succeeded", tc.name)
		}
		if _, err := s.Get(ctx, "fresh"); !errdefs.IsNotFound(err) {
			t.Errorf("%s: a failed import left the volume it created: %v", tc.name, err)
		}
	}
	// The stream checksum: a byte changed in a header (a file's mode),
	// which no file checksum covers.
	b := bytes.Clone(data)
	i := bytes.Index(b, []byte("data/empty"))
	hdr := b[i : i+blockSize]
	hdr[100+4] = '7' // the mode field: 0007xx
	// Keep tar's own header checksum right: only the manifest can tell.
	copy(hdr[148:156], "        ")
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	err := s.Import(ctx, "dst", bytes.NewReader(b))
	if err == nil || !strings.Contains(err.Error(), "archive checksum mismatch") {
		t.Errorf("a changed header: got %v, want an archive checksum mismatch", err)
	}
}

func TestReadArchiveHostile(t *testing.T) {
	build := func(hdrs ...*tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			tw.WriteHeader(h)
			if h.Size > 0 {
				tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"outside data/", build(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Size: 1}), "is not under data/"},
		{"hard link out", build(&tar.Header{Name: "data/l", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}), "hard link outside the volume"},
		{"twice", build(&tar.Header{Name: "data/f", Typeflag: tar.TypeReg, Size: 1}, &tar.Header{Name: "data/f", Typeflag: tar.TypeReg, Size: 1}), "appears twice"},
		{"after the manifest", build(&tar.Header{Name: manifestName, Typeflag: tar.TypeReg, Size: 2}, &tar.Header{Name: "data/f", Typeflag: tar.TypeReg}), ""},
		{"huge manifest", build(&tar.Header{Name: manifestName, Typeflag: tar.TypeReg, Size: maxManifest + 1}), "at most"},
	} {
		err := readArchive(bytes.NewReader(tc.in), func(*tar.Header, io.Reader) error { return nil })
		if err == nil || !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an invalid argument error with %q", tc.name, err, tc.want)
		}
	}
	// emit's own error comes back as it is.
	valid := build(&tar.Header{Name: "data/", Typeflag: tar.TypeDir})
	stop := errors.New("stop")
	if err := readArchive(bytes.NewReader(valid), func(*tar.Header, io.Reader) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit's error: got %v, want it back", err)
	}
}

func TestPopulate(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	src := t.TempDir()
	fillVolume(t, src)
	os.Chown(filepath.Join(src, "a.txt"), 65534, 65534)
	os.Chmod(src, 0o701)
	s.Create(ctx, volume.CreateRequest{Name: "vv"})
	if err := s.Populate(ctx, "vv", src); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, s.dataDir("vv")), tree(t, src); !slices.Equal(got, want) {
		t.Errorf("copied up: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fi, _ := os.Stat(s.dataDir("vv")); fi.Mode().Perm() != 0o701 {
		t.Errorf("volume root: got %v, want the source's 0701", fi.Mode())
	}
	// Not empty: left alone.
	os.WriteFile(filepath.Join(src, "later"), []byte("x"), 0o644)
	if err := s.Populate(ctx, "vv", src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir("vv"), "later")); !os.IsNotExist(err) {
		t.Errorf("a second copy-up into a volume with content: got %v", err)
	}
	// Nothing at the source: nothing to do.
	s.Create(ctx, volume.CreateRequest{Name: "ww"})
	if err := s.Populate(ctx, "ww", filepath.Join(src, "missing")); err != nil {
		t.Errorf("copy-up from nothing: %v", err)
	}
}

func TestDriverOptionsMount(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	s := newTestService(t, filepath.Join(t.TempDir(), "volumes"))
	t.Cleanup(func() { mount.UnmountAll(s.o.Root) })
	if _, err := s.Create(ctx, volume.CreateRequest{Name: "tv", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}}); err != nil {
		t.Fatal(err)
	}
	mounted := func(name string) bool {
		mps, _ := mount.Under(s.dataDir(name))
		return slices.Contains(mps, s.dataDir(name))
	}
	for _, c := range []string{"c1", "c2"} {
		if _, err := s.Mount(ctx, "tv", c); err != nil {
			t.Fatal(err)
		}
	}
	if !mounted("tv") {
		t.Fatal("tmpfs volume not mounted at first use")
	}
	s.Unmount(ctx, "tv", "c1")
	if !mounted("tv") {
		t.Error("unmounted while a container still uses it")
	}
	s.Unmount(ctx, "tv", "c2")
	if mounted("tv") {
		t.Error("still mounted after the last user")
	}

	// A bind volume: removing it never deletes what it binds.
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "precious"), []byte("keep"), 0o644)
	s.Create(ctx, volume.CreateRequest{Name: "bv", DriverOpts: map[string]string{"type": "none", "device": host, "o": "bind"}})
	if _, err := s.Mount(ctx, "bv", "c3"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir("bv"), "precious")); err != nil {
		t.Errorf("bind volume: %v", err)
	}
	if err := s.Remove(ctx, "bv", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(host, "precious")); err != nil {
		t.Errorf("removing a bind volume touched its source: %v", err)
	}
	if err := s.Import(ctx, "tv", strings.NewReader("")); !errdefs.IsNotImplemented(err) {
		t.Errorf("import into a tmpfs volume: got %v, want not implemented", err)
	}
}

// writeSeed stores a fuzz seed in the go test corpus format.
func writeSeed(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzReadArchive")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)), 0o644); err != nil {
		t.Fatal(err)
	}
}
