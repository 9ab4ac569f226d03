package archive

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipped(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zstded(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestDecompress(t *testing.T) {
	tarball := layer(t, file("f", "hello", 0o644), dir0("d"))
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		comp    Compression
		wantErr error
	}{
		{name: "tar", in: tarball, want: tarball, comp: Uncompressed},
		{name: "gzip", in: gzipped(t, tarball), want: tarball, comp: Gzip},
		{name: "zstd", in: zstded(t, tarball), want: tarball, comp: Zstd},
		{name: "empty", in: nil, want: nil, comp: Uncompressed},
		{name: "empty archive", in: make([]byte, 1024), want: make([]byte, 1024), comp: Uncompressed},
		{name: "bzip2", in: []byte("BZh91AY&SY\x00\x00"), wantErr: errdefs.ErrNotImplemented},
		{name: "xz", in: []byte("\xfd7zXZ\x00\x00\x04"), wantErr: errdefs.ErrNotImplemented},
		{name: "lz4", in: []byte("\x04\x22\x4d\x18\x64\x40"), wantErr: errdefs.ErrNotImplemented},
		{name: "text", in: bytes.Repeat([]byte("not a layer\n"), 100), wantErr: errdefs.ErrInvalidArgument},
		{name: "short garbage", in: []byte("hi"), wantErr: errdefs.ErrInvalidArgument},
		{name: "tar header with a bad checksum", in: corrupt(tarball, 148), wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, comp, err := Decompress(bytes.NewReader(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			defer rc.Close()
			if comp != tt.comp {
				t.Errorf("got compression %v, want %v", comp, tt.comp)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func corrupt(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] = '7'
	c[at+1] = '7'
	return c
}

func TestDecompressTruncated(t *testing.T) {
	tarball := layer(t, file("f", string(bytes.Repeat([]byte("data"), 10000)), 0o644))
	for _, in := range [][]byte{gzipped(t, tarball), zstded(t, tarball)} {
		rc, _, err := Decompress(bytes.NewReader(in[:len(in)/2]))
		if err != nil {
			t.Fatalf("Decompress: %v", err)
		}
		if _, err := io.ReadAll(rc); err == nil {
			t.Errorf("reading a truncated stream: got no error")
		}
		rc.Close()
	}
}
