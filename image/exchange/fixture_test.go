package exchange

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testbundle"
)

// tarFile is one entry of a tar a test writes.
type tarFile struct {
	name string
	body []byte
	typ  byte   // tar.TypeReg when zero
	link string // for links
	size int64  // header size when not len(body) (a lie, for hostile archives)
}

func makeTar(t testing.TB, files []tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: 0o644, Size: int64(len(f.body)), Linkname: f.link, ModTime: time.Unix(1700000000, 0)}
		switch f.typ {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeDir:
			h.Mode, h.Size = 0o755, 0
		case tar.TypeSymlink, tar.TypeLink:
			h.Mode, h.Size = 0o777, 0
		}
		if f.size != 0 {
			h.Size = f.size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil && f.size == 0 {
			t.Fatal(err)
		}
	}
	if f := files; len(f) > 0 && f[len(f)-1].size != 0 {
		return buf.Bytes() // a truncated archive: no end marker
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// busyboxLayer is a layer with Debian's static busybox as /bin/busybox
// and a few applet links.
func busyboxLayer(t testing.TB) []byte {
	t.Helper()
	bb, err := os.ReadFile(testbundle.Busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	files := []tarFile{{name: "bin/", typ: tar.TypeDir}, {name: "bin/busybox", body: bb}}
	for _, a := range []string{"sh", "ls", "cat", "echo", "true"} {
		files = append(files, tarFile{name: "bin/" + a, typ: tar.TypeSymlink, link: "busybox"})
	}
	return makeTar(t, append(files, tarFile{name: "etc/", typ: tar.TypeDir}, tarFile{name: "etc/os-release", body: []byte("ID=berth-test\n")}))
}

// fileLayer is a small layer holding one file.
func fileLayer(t testing.TB, name, body string) []byte {
	t.Helper()
	return makeTar(t, []tarFile{{name: name, body: []byte(body)}})
}

func compressBytes(t testing.TB, data []byte, c compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch c {
	case uncompressed:
		return data
	case compGzip:
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case compZstd:
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("cannot compress with %s", c)
	}
	return buf.Bytes()
}

var ociLayerType = map[compression]string{
	uncompressed: ocispec.MediaTypeImageLayer,
	compGzip:     ocispec.MediaTypeImageLayerGzip,
	compZstd:     ocispec.MediaTypeImageLayerZstd,
}

// builtImage is an image a test stored: its manifest and its parts.
type builtImage struct {
	manifest ocispec.Descriptor
	config   ocispec.Descriptor
	layers   []ocispec.Descriptor
	diffIDs  []digest.Digest
}

// buildImage stores an OCI image of the given uncompressed layers, each
// compressed with c.
func buildImage(t testing.TB, s *memStore, layers [][]byte, c compression, conf ocispec.ImageConfig) builtImage {
	t.Helper()
	var b builtImage
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	img := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		Config:   conf,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	for i, l := range layers {
		blob := compressBytes(t, l, c)
		b.layers = append(b.layers, ocispec.Descriptor{MediaType: ociLayerType[c], Digest: s.put(blob), Size: int64(len(blob))})
		b.diffIDs = append(b.diffIDs, digest.FromBytes(l))
		img.History = append(img.History, ocispec.History{Created: &created, CreatedBy: "layer " + string(rune('0'+i))})
	}
	img.RootFS.DiffIDs = b.diffIDs
	b.config = putJSON(t, s, ocispec.MediaTypeImageConfig, img)
	b.manifest = putJSON(t, s, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: b.config, Layers: b.layers,
	})
	return b
}

func putJSON(t testing.TB, s *memStore, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: s.put(data), Size: int64(len(data))}
}

// writeOCIDir writes an OCI image layout directory holding the given
// index.json entries and every blob of s they reach.
func writeOCIDir(t testing.TB, dir string, s *memStore, entries []ocispec.Descriptor) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	var walk func(d ocispec.Descriptor)
	walk = func(d ocispec.Descriptor) {
		data, ok := s.get(d.Digest)
		if !ok {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), data, 0o644); err != nil {
			t.Fatal(err)
		}
		switch {
		case isIndex(d.MediaType):
			var idx ocispec.Index
			json.Unmarshal(data, &idx)
			for _, c := range idx.Manifests {
				walk(c)
			}
		case isManifest(d.MediaType):
			var m ocispec.Manifest
			json.Unmarshal(data, &m)
			walk(m.Config)
			for _, l := range m.Layers {
				walk(l)
			}
		}
	}
	for _, e := range entries {
		walk(e)
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	index, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: entries})
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), layout, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTar returns an archive's entries by name, failing on a repeat.
func readTar(t testing.TB, data []byte) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if _, dup := files[h.Name]; dup {
			t.Errorf("archive entry %s appears twice", h.Name)
		}
		var buf bytes.Buffer
		buf.ReadFrom(tr)
		files[h.Name] = buf.Bytes()
		order = append(order, h.Name)
	}
	return files, order
}
