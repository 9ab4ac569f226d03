package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"golang.org/x/sys/unix"
)

// entries describes a tar stream's entries by name, with what a round trip
// must keep.
func entries(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		var xattrs []string
		for k, v := range hdr.PAXRecords {
			if name, ok := strings.CutPrefix(k, paxXattr); ok {
				xattrs = append(xattrs, name+"="+v)
			}
		}
		sort.Strings(xattrs)
		name := strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")
		if _, dup := out[name]; dup {
			t.Errorf("%s: listed twice", name)
		}
		out[name] = fmt.Sprintf("type=%c mode=%o owner=%d:%d link=%q body=%s dev=%d:%d mtime=%d xattrs=%v",
			hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Linkname, digest(body), hdr.Devmajor, hdr.Devminor, hdr.ModTime.Unix(), xattrs)
	}
}

func compareEntries(t *testing.T, got, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: missing, want %s", name, w)
		} else if g != w {
			t.Errorf("%s:\n got %s\nwant %s", name, g, w)
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected entry %s", name, g)
		}
	}
}

// roundTripEntries lists every entry type; names sort so that a hard link's
// target comes first, as Tar lists it.
func roundTripEntries(root bool) []ent {
	ents := []ent{
		dir("bin", 0o755),
		file("bin/sh", "#!", 0o755),
		file("bin/su", "su", 0o4755),
		hardlink("bin/sx", "bin/sh").mode(0o755), // a link shares its target's mode
		dir("etc", 0o750),
		file("etc/conf", strings.Repeat("conf\n", 1000), 0o640).xattr("user.note", "kept"),
		symlink("etc/link", "../bin/sh"),
		symlink("etc/abs", "/etc/conf"),
		dir("tmp", 0o1777),
		node(tar.TypeFifo, "tmp/fifo", 0, 0),
		dir("var", 0o2755).xattr("user.dir", "yes"),
		file("var/empty", "", 0o600),
	}
	if root {
		ents = append(ents,
			dir("dev", 0o755),
			node(tar.TypeChar, "dev/null", 1, 3).owner(0, 5),
			node(tar.TypeBlock, "dev/sda", 8, 0).owner(0, 6),
			file("bin/ping", "elf", 0o755).owner(0, 0).xattr("security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
			dir("home", 0o755),
			dir("home/user", 0o700).owner(1000, 1000).xattr("trusted.t", "v"),
			file("home/user/f", "mine", 0o644).owner(1000, 1000),
		)
	}
	return ents
}

func TestRoundTripTar(t *testing.T) {
	for _, root := range []bool{false, true} {
		t.Run(fmt.Sprintf("root=%v", root), func(t *testing.T) {
			if root {
				testutil.RequireRoot(t)
			}
			in := layer(t, roundTripEntries(root)...)
			dir := t.TempDir()
			if _, err := Apply(context.Background(), dir, bytes.NewReader(in), baseOpts(Delete)); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var out bytes.Buffer
			if err := Tar(context.Background(), &out, dir); err != nil {
				t.Fatalf("Tar: %v", err)
			}
			want := entries(t, in)
			if !isRoot() {
				for name, e := range want {
					want[name] = strings.Replace(e, "owner=0:0", fmt.Sprintf("owner=%d:%d", os.Geteuid(), os.Getegid()), 1)
				}
			}
			compareEntries(t, entries(t, out.Bytes()), want)

			var again bytes.Buffer
			if err := Tar(context.Background(), &again, dir); err != nil {
				t.Fatalf("Tar: %v", err)
			}
			if !bytes.Equal(out.Bytes(), again.Bytes()) {
				t.Errorf("Tar of one tree gave two different streams")
			}
		})
	}
}

func TestRoundTripDiff(t *testing.T) {
	testutil.RequireRoot(t)
	ents := append(roundTripEntries(true),
		whiteout(".wh.gone"),
		whiteout("etc/.wh.passwd"),
		dir("opaque", 0o755),
		whiteout("opaque/.wh..wh..opq"),
		file("opaque/new", "n", 0o644),
	)
	in := layer(t, ents...)
	dir := t.TempDir()
	if _, err := Apply(context.Background(), dir, bytes.NewReader(in), ApplyOptions{Whiteouts: Overlay}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var out bytes.Buffer
	if err := Diff(context.Background(), &out, dir); err != nil {
		t.Fatalf("Diff: %v", err)
	}
	got := entries(t, out.Bytes())
	want := entries(t, in)
	// A whiteout's metadata is not kept; compare its name only.
	for name := range want {
		if strings.HasPrefix(filepath.Base(name), whiteoutPrefix) {
			if _, ok := got[name]; ok {
				got[name] = "whiteout"
			}
			want[name] = "whiteout"
		}
	}
	compareEntries(t, got, want)

	// Whiteouts come before their siblings.
	tr := tar.NewReader(bytes.NewReader(out.Bytes()))
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		d, base := splitName(strings.TrimSuffix(hdr.Name, "/"))
		if strings.HasPrefix(base, whiteoutPrefix) && base != whiteoutOpaque && seen[d] {
			t.Errorf("whiteout %s comes after a sibling", hdr.Name)
		}
		if !strings.HasPrefix(base, whiteoutPrefix) {
			seen[d] = true
		}
	}
}

func TestDiffRefusesRedirects(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "d"), overlayRedirect, []byte("/old"), 0); err != nil {
		t.Fatal(err)
	}
	if err := Diff(context.Background(), io.Discard, dir); err == nil {
		t.Errorf("Diff of an upper with a redirect: got success, want an error")
	}
}

func TestTarSkipsSockets(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(dir, "sock")}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	var out bytes.Buffer
	if err := Tar(context.Background(), &out, dir); err != nil {
		t.Fatalf("Tar: %v", err)
	}
	got := entries(t, out.Bytes())
	if _, ok := got["sock"]; ok || len(got) != 1 {
		t.Errorf("got entries %v, want only f", got)
	}
}
