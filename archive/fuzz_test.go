package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzApply from fuzzSeeds")

// FuzzApply applies arbitrary bytes as a layer, in each whiteout mode
// (Plain too: docker cp's extraction). No
// input may panic or change anything beside the layer directory, and what
// Apply leaves must be writable back as a tar.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = fixChecksums(data)
		modes := []WhiteoutMode{Delete, Plain}
		if isRoot() {
			modes = append(modes, Overlay)
		}
		for _, mode := range modes {
			s := newSandbox(t)
			Apply(context.Background(), s.dir, bytes.NewReader(data), ApplyOptions{Whiteouts: mode, NoSameOwner: !isRoot()})
			s.check(t)
			if err := Tar(context.Background(), io.Discard, s.dir); err != nil {
				t.Errorf("%v: Tar of what Apply left: %v", mode, err)
			}
			if mode == Overlay {
				if err := Diff(context.Background(), io.Discard, s.dir); err != nil {
					t.Errorf("Diff of what Apply left: %v", err)
				}
			}
		}
	})
}

// fixChecksums rewrites the checksum of each header block in a tar stream,
// following the sizes the headers declare, so that the fuzzer's mutations
// of header fields reach Apply instead of failing archive/tar's check.
func fixChecksums(in []byte) []byte {
	data := bytes.Clone(in)
	for pos := 0; pos+512 <= len(data); {
		blk := data[pos : pos+512]
		if allZero(blk) {
			break
		}
		copy(blk[148:156], "        ")
		sum := 0
		for _, c := range blk {
			sum += int(c)
		}
		copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
		size, err := strconv.ParseInt(string(bytes.Trim(blk[124:136], " \x00")), 8, 64)
		if err != nil || size < 0 || size > int64(len(data)) {
			size = 0
		}
		pos += 512 + int((size+511)/512*512)
	}
	return data
}

type seed struct {
	name string
	data []byte
}

// fuzzSeeds are layers of every entry type and every hostile shape the
// unit tests know.
func fuzzSeeds(t testing.TB) []seed {
	l := func(ents ...ent) []byte { return layer(t, ents...) }
	big := func(size int64, data int) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: size, Mode: 0o644})
		tw.Write(make([]byte, data))
		return b.Bytes()
	}
	return []seed{
		{"all-types", l(dir0("d"), file("d/f", "data", 0o4755), hardlink("d/h", "d/f"), symlink("d/s", "f"),
			node(tar.TypeFifo, "d/p", 0, 0), node(tar.TypeChar, "d/c", 1, 3), node(tar.TypeBlock, "d/b", 7, 0),
			file("x", "x", 0o644).xattr("user.k", "v").owner(1, 2), dir("./", 0o755))},
		{"whiteouts", l(whiteout(".wh.a"), dir0("d"), whiteout("d/.wh..wh..opq"), file("d/n", "n", 0o644),
			file("f", "f", 0o644), whiteout(".wh.f"), whiteout(".wh.g"), dir0("g"), whiteout("x/y/.wh.z"))},
		{"aufs", l(dir0(".wh..wh.plnk"), file(".wh..wh.plnk/1.2", "x", 0o644), file(".wh..wh.aufs", "", 0o644))},
		{"overwrite", l(dir0("d"), file("d/a", "a", 0o644), file("d", "f", 0o644), dir0("d"), symlink("d", "x"), file("d", "y", 0o644))},
		{"dotdot", l(file("../escape", "x", 0o644))},
		{"dotdot-inner", l(file("a/../../escape", "x", 0o644))},
		{"absolute", l(file("/abs/file", "x", 0o644))},
		{"symlink-up", l(symlink("up", "../.."), file("up/sentinel", "pwned", 0o644), dir0("up/etc"), file("up/etc/passwd", "pwned", 0o644))},
		{"symlink-abs", l(symlink("abs", "/"), file("abs/sentinel", "pwned", 0o644))},
		{"symlink-replace", l(symlink("s", "../sentinel"), file("s", "pwned", 0o644))},
		{"symlink-loop", l(symlink("a", "b"), symlink("b", "a"), file("a/x", "x", 0o644))},
		{"hardlink-out", l(hardlink("h", "../sentinel"))},
		{"hardlink-abs", l(hardlink("h", "/etc/passwd"))},
		{"hardlink-symlink", l(symlink("s", "../sentinel"), hardlink("h", "s"), file("h", "pwned", 0o644))},
		{"hardlink-via-dir", l(symlink("d", ".."), hardlink("h", "d/sentinel"))},
		{"hardlink-dir", l(dir0("d"), hardlink("h", "d"), hardlink("r", "./"))},
		{"device-dotdot", l(node(tar.TypeChar, "../null", 1, 3))},
		{"device-via-symlink", l(symlink("d", "../"), node(tar.TypeBlock, "d/disk", 8, 0))},
		{"whiteout-via-symlink", l(symlink("up", ".."), whiteout("up/.wh.sentinel"), whiteout("up/.wh..wh..opq"))},
		{"whiteout-bad", l(whiteout(".wh.."), whiteout(".wh..."), file(".wh.d/x", "x", 0o644))},
		{"size-short", big(1<<20, 1000)},
		{"size-huge", big(1<<62, 512)},
		{"root-file", l(file(".", "x", 0o644))},
	}
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzApply in step with fuzzSeeds
// (go test -run FuzzSeeds -update-seeds rewrites it).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzApply")
	for _, s := range fuzzSeeds(t) {
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\n"
		p := filepath.Join(dir, "seed-"+s.name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("%s is stale or missing (%v): run go test -run FuzzSeeds -update-seeds", p, err)
		}
	}
}
