package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/containerd/errdefs"
)

// TestApplyHostile feeds layers that try to reach outside the directory.
// Each either fails or stays inside; either way nothing beside the
// directory may change.
func TestApplyHostile(t *testing.T) {
	tests := []struct {
		name    string
		root    bool
		lower   func(s *sandbox) []ent // applied first, in Delete mode
		ents    func(s *sandbox) []ent
		wantErr error // nil: must succeed
		inside  []string
	}{
		{
			name:    "dot-dot name",
			ents:    func(*sandbox) []ent { return []ent{file("../sentinel", "pwned", 0o644)} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "dot-dot inside a name",
			ents:    func(*sandbox) []ent { return []ent{file("a/../../sentinel", "pwned", 0o644)} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:   "absolute name stays inside",
			ents:   func(s *sandbox) []ent { return []ent{file(filepath.Join(s.parent, "sentinel"), "pwned", 0o644)} },
			inside: []string{"tmp"},
		},
		{
			name: "write through a relative symlink planted by the layer",
			ents: func(*sandbox) []ent {
				return []ent{symlink("up", "../.."), file("up/sentinel", "pwned", 0o644), file("up/etc/passwd", "pwned", 0o644)}
			},
			inside: []string{"sentinel", "etc/passwd"},
		},
		{
			name: "write through an absolute symlink planted by the layer",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("abs", s.parent), dir0("abs"), file("abs/sentinel", "pwned", 0o644)}
			},
		},
		{
			name: "write through a symlinked parent to the outside",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("etc", filepath.Join(s.parent, "etc")), file("etc/passwd", "pwned", 0o644)}
			},
			wantErr: errAny,
		},
		{
			name: "write through a relative symlink already in the directory",
			lower: func(s *sandbox) []ent {
				return []ent{dir0("real"), symlink("etc", "../../real"), symlink("self", "../self")}
			},
			ents: func(*sandbox) []ent {
				return []ent{file("etc/passwd", "pwned", 0o644)}
			},
			inside: []string{"real/passwd"},
		},
		{
			name: "write through an absolute symlink already in the directory",
			lower: func(s *sandbox) []ent {
				return []ent{symlink("abs", filepath.Join(s.parent, "sentinel-dir"))}
			},
			ents: func(*sandbox) []ent {
				return []ent{file("abs/file", "pwned", 0o644)}
			},
			wantErr: errAny, // a dangling symlink inside the root
		},
		{
			name: "write through a symlink to itself",
			ents: func(*sandbox) []ent {
				return []ent{symlink("self", "../self"), file("self/x", "pwned", 0o644)}
			},
			wantErr: errAny,
		},
		{
			name: "replace a symlink to an outside file",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("s", filepath.Join(s.parent, "sentinel")), file("s", "pwned", 0o644), symlink("t", "../sentinel"), dir0("t"), file("t/x", "x", 0o644)}
			},
			inside: []string{"s", "t/x"},
		},
		{
			name:    "hard link to the outside",
			ents:    func(*sandbox) []ent { return []ent{hardlink("h", "../sentinel")} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "hard link to an absolute path",
			ents:    func(s *sandbox) []ent { return []ent{hardlink("h", filepath.Join(s.parent, "sentinel"))} },
			wantErr: errAny,
		},
		{
			name: "hard link to a symlink pointing outside links the symlink",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("s", filepath.Join(s.parent, "sentinel")), hardlink("h", "s"), file("h", "pwned", 0o644)}
			},
			inside: []string{"h"},
		},
		{
			name: "hard link through a symlinked directory",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("d", ".."), symlink("a", s.parent), hardlink("h", "d/sentinel"), hardlink("h2", "a/etc/passwd")}
			},
			wantErr: errAny,
		},
		{
			name:    "hard link to a directory",
			ents:    func(*sandbox) []ent { return []ent{dir0("d"), hardlink("h", "d")} },
			wantErr: errAny,
		},
		{
			name:    "hard link to the root",
			ents:    func(*sandbox) []ent { return []ent{hardlink("h", "./")} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "device named with dot-dot",
			root:    true,
			ents:    func(*sandbox) []ent { return []ent{node(tar.TypeChar, "../null", 1, 3)} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "device through a symlinked directory",
			root: true,
			ents: func(s *sandbox) []ent {
				return []ent{symlink("d", "../"), node(tar.TypeBlock, "d/sentinel-dir/disk", 8, 0), node(tar.TypeFifo, "d/fifo", 0, 0)}
			},
			inside: []string{"sentinel-dir/disk", "fifo"},
		},
		{
			name:    "whiteout named with dot-dot",
			ents:    func(*sandbox) []ent { return []ent{whiteout("../.wh.sentinel")} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "whiteouts of dot and dot-dot",
			ents: func(*sandbox) []ent {
				return []ent{whiteout(".wh.."), whiteout(".wh...")}
			},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "whiteout name as a directory",
			ents:    func(*sandbox) []ent { return []ent{file(".wh.d/x", "x", 0o644)} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "whiteouts through a symlink to the outside",
			ents: func(s *sandbox) []ent {
				return []ent{symlink("up", ".."), whiteout("up/.wh.sentinel"), symlink("abs", s.parent), whiteout("abs/.wh.sentinel-dir"), whiteout("abs/.wh..wh..opq")}
			},
			wantErr: errMaybe, // Overlay mode cannot make a whiteout below a dangling symlink
		},
		{
			name:    "non-directory as the root",
			ents:    func(*sandbox) []ent { return []ent{file(".", "x", 0o644)} },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "parent is a file",
			ents: func(*sandbox) []ent {
				return []ent{file("f", "x", 0o644), file("f/g", "x", 0o644)}
			},
			wantErr: errAny,
		},
		{
			name: "parent is a dangling symlink",
			ents: func(*sandbox) []ent {
				return []ent{symlink("l", "nowhere"), file("l/g", "x", 0o644)}
			},
			wantErr: errAny,
		},
		{
			name: "symlink loop",
			ents: func(*sandbox) []ent {
				return []ent{symlink("a", "b"), symlink("b", "a"), file("a/x", "x", 0o644)}
			},
			wantErr: errAny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testutil.RequireRoot(t)
			}
			modes := []WhiteoutMode{Delete}
			if isRoot() {
				modes = append(modes, Overlay)
			}
			for _, mode := range modes {
				s := newSandbox(t)
				if tt.lower != nil {
					if err := apply(t, s.dir, baseOpts(Delete), tt.lower(s)...); err != nil {
						t.Fatalf("Apply lower: %v", err)
					}
				}
				err := apply(t, s.dir, baseOpts(mode), tt.ents(s)...)
				switch {
				case tt.wantErr == errMaybe:
				case tt.wantErr == nil && err != nil:
					t.Errorf("%v: Apply: %v, want success", mode, err)
				case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
					t.Errorf("%v: Apply: got %v, want %v", mode, err, tt.wantErr)
				}
				s.check(t)
				for _, name := range tt.inside {
					if _, ok := stat(t, filepath.Join(s.dir, name)); !ok {
						t.Errorf("%v: %s: absent inside, want present", mode, name)
					}
				}
			}
		})
	}
}

// errAny stands for "some error", errMaybe for "an error or none".
var (
	errAny   = errors.New("any error")
	errMaybe = errors.New("an error or none")
)

// rawLayer builds a one-file layer whose PAX header holds records that
// archive/tar's writer refuses to write (GNU sparse ones).
func rawLayer(t *testing.T, records map[string]string, name string, data []byte) []byte {
	t.Helper()
	var body []byte
	for k, v := range records {
		rec := " " + k + "=" + v + "\n"
		n := len(rec) + 1
		for len(strconv.Itoa(n))+len(rec) != n {
			n++
		}
		body = append(body, strconv.Itoa(n)+rec...)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	// The extended header is written as a file, then retyped to 'x'.
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeader", Size: int64(len(body)), Format: tar.FormatUSTAR})
	tw.Write(body)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Write(data)
	tw.Close()
	out := b.Bytes()
	out[156] = tar.TypeXHeader
	copy(out[148:156], "        ")
	sum := 0
	for _, c := range out[:512] {
		sum += int(c)
	}
	copy(out[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return out
}

func TestApplyAbsurdSizes(t *testing.T) {
	tests := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{
			name: "declared size larger than the data",
			data: func(t *testing.T) []byte {
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 1 << 20, Mode: 0o644})
				tw.Write(make([]byte, 1000))
				return b.Bytes()[:b.Len()] // no padding, no trailer
			},
		},
		{
			name: "size 1<<62",
			data: func(t *testing.T) []byte {
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 1 << 62, Mode: 0o644})
				tw.Write(make([]byte, 4096))
				return b.Bytes()
			},
		},
		{
			name: "sparse file with a huge logical size",
			data: func(t *testing.T) []byte {
				// GNU sparse 1.0: the map (one 1-byte fragment) leads the data.
				m := make([]byte, 512)
				copy(m, "1\n0\n1\n")
				return rawLayer(t, map[string]string{
					"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "f",
					"GNU.sparse.realsize": "4611686018427387904",
				}, "f", append(m, 'x'))
			},
		},
		{
			name: "garbage after a valid header",
			data: func(t *testing.T) []byte {
				return append(layer(t, file("f", "x", 0o644))[:1024], bytes.Repeat([]byte{0xff}, 512)...)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Apply(context.Background(), s.dir, bytes.NewReader(tt.data(t)), baseOpts(Delete))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Errorf("Apply: got success, want an error")
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
				t.Errorf("Apply allocated %d bytes, want under 16 MiB", grown)
			}
			s.check(t)
		})
	}
}

func TestApplyManyEntries(t *testing.T) {
	// Entries that create nothing (whiteouts of absent names) and entries
	// that rewrite one name: Apply's memory must not grow with them.
	var ents []ent
	for range 20000 {
		ents = append(ents, whiteout("a/.wh.x"), dir0("d"))
	}
	data := layer(t, ents...)
	dir := t.TempDir()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stats, err := Apply(context.Background(), dir, bytes.NewReader(data), baseOpts(Delete))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if stats.Entries != 40000 {
		t.Errorf("got %d entries, want 40000", stats.Entries)
	}
	// Allocation per entry is bounded (the race detector's included).
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 40000*4096 {
		t.Errorf("Apply allocated %d bytes for 40000 entries, want under 4 KiB each", grown)
	}
	t.Logf("allocated %d bytes per entry", (after.TotalAlloc-before.TotalAlloc)/40000)
}

func TestApplyUnsupportedTypes(t *testing.T) {
	for _, typ := range []byte{'V', 'M', tar.TypeGNUSparse} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Typeflag: typ, Name: "x", Format: tar.FormatGNU})
		tw.Close()
		_, err := Apply(context.Background(), t.TempDir(), &b, baseOpts(Delete))
		if err == nil {
			t.Errorf("type %q: got success, want an error", typ)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "a/b", want: "a/b"},
		{in: "./a/", want: "a"},
		{in: "/a//b/./c", want: "a/b/c"},
		{in: "/", want: "."},
		{in: "./", want: "."},
		{in: "/../a", want: "a"},
		{in: "a/..", want: "."},
		{in: "..", bad: true},
		{in: "../a", bad: true},
		{in: "a/../../b", bad: true},
		{in: "", bad: true},
		{in: "a\x00b", bad: true},
		{in: string(make([]byte, 5000)), bad: true},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("cleanName(%q): got %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("cleanName(%q): got %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}
