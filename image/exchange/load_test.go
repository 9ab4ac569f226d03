package exchange

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerConfig is an image config with the given diff_ids.
func dockerConfig(t testing.TB, diffIDs []digest.Digest) []byte {
	t.Helper()
	data, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// legacyArchive is a `docker save` archive of Docker before 25: layers as
// <id>/layer.tar (the second image's shared layer a symlink to the
// first's), configs as <hex>.json, manifest.json and repositories last.
func legacyArchive(t testing.TB, l1, l2, l3 []byte) (files []tarFile, cfg1, cfg2 []byte) {
	t.Helper()
	cfg1 = dockerConfig(t, []digest.Digest{digest.FromBytes(l1), digest.FromBytes(l2)})
	cfg2 = dockerConfig(t, []digest.Digest{digest.FromBytes(l1), digest.FromBytes(l3)})
	id := func(n int) string { return strings.Repeat(fmt.Sprint(n), 64) }
	files = []tarFile{
		{name: id(1) + "/", typ: tar.TypeDir},
		{name: id(1) + "/VERSION", body: []byte("1.0")},
		{name: id(1) + "/json", body: []byte(`{"id":"` + id(1) + `"}`)},
		{name: id(1) + "/layer.tar", body: l1},
		{name: id(2) + "/layer.tar", body: l2},
		{name: id(3) + "/layer.tar", body: l3},
		{name: id(4) + "/layer.tar", typ: tar.TypeSymlink, link: "../" + id(1) + "/layer.tar"},
		{name: digest.FromBytes(cfg1).Encoded() + ".json", body: cfg1},
		{name: digest.FromBytes(cfg2).Encoded() + ".json", body: cfg2},
		{name: "manifest.json", body: mustJSON(t, []dockerManifest{
			{Config: digest.FromBytes(cfg1).Encoded() + ".json", RepoTags: []string{"busybox:latest"}, Layers: []string{id(1) + "/layer.tar", id(2) + "/layer.tar"}},
			{Config: digest.FromBytes(cfg2).Encoded() + ".json", RepoTags: []string{"localhost:5000/x/y:1", "busybox:other"}, Layers: []string{id(4) + "/layer.tar", id(3) + "/layer.tar"}},
		})},
		{name: "repositories", body: []byte(`{"busybox":{"latest":"` + id(2) + `"}}`)},
	}
	return files, cfg1, cfg2
}

// manifestOf reads back a loaded manifest from the store.
func manifestOf(t testing.TB, s *memStore, d ocispec.Descriptor) ocispec.Manifest {
	t.Helper()
	data, ok := s.get(d.Digest)
	if !ok {
		t.Fatalf("manifest %s not stored", d.Digest)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != d.MediaType {
		t.Errorf("got manifest media type %s, descriptor says %s", m.MediaType, d.MediaType)
	}
	return m
}

func TestLoadLegacyDockerArchive(t *testing.T) {
	ctx := context.Background()
	l1, l2, l3 := fileLayer(t, "one", "1"), fileLayer(t, "two", "2"), fileLayer(t, "three", "3")
	files, cfg1, cfg2 := legacyArchive(t, l1, l2, l3)
	for _, outer := range []compression{uncompressed, compGzip, compZstd} {
		t.Run(outer.String(), func(t *testing.T) {
			s := newMemStore()
			loaded, err := Load(ctx, bytes.NewReader(compressBytes(t, makeTar(t, files), outer)), s)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(loaded) != 2 {
				t.Fatalf("got %d images, want 2", len(loaded))
			}
			wantNames := [][]string{{"docker.io/library/busybox:latest"}, {"localhost:5000/x/y:1", "docker.io/library/busybox:other"}}
			for i, cfg := range [][]byte{cfg1, cfg2} {
				if !slices.Equal(loaded[i].Names, wantNames[i]) {
					t.Errorf("image %d: got names %q, want %q", i, loaded[i].Names, wantNames[i])
				}
				if loaded[i].Manifest.MediaType != mediaTypeDockerManifest || loaded[i].Manifest.Platform == nil || loaded[i].Manifest.Platform.Architecture != runtime.GOARCH {
					t.Errorf("image %d: got manifest descriptor %+v, want a Docker schema2 manifest for linux/%s", i, loaded[i].Manifest, runtime.GOARCH)
				}
				m := manifestOf(t, s, loaded[i].Manifest)
				if m.Config.Digest != digest.FromBytes(cfg) || m.Config.MediaType != mediaTypeDockerConfig {
					t.Errorf("image %d: got config %+v, want %s", i, m.Config, digest.FromBytes(cfg))
				}
				wantLayers := [][]byte{l1, l2}
				if i == 1 {
					wantLayers = [][]byte{l1, l3}
				}
				for j, l := range m.Layers {
					if l.MediaType != mediaTypeDockerLayer || l.Digest != digest.FromBytes(wantLayers[j]) || l.Size != int64(len(wantLayers[j])) {
						t.Errorf("image %d layer %d: got %+v, want the uncompressed layer %s", i, j, l, digest.FromBytes(wantLayers[j]))
					}
					if got, _ := s.get(l.Digest); !bytes.Equal(got, wantLayers[j]) {
						t.Errorf("image %d layer %d: stored content differs", i, j)
					}
				}
			}
		})
	}
}

// TestLoadDockerArchiveCompressedLayers loads docker-archives whose layers
// are compressed: gzip keeps a Docker manifest, zstd needs an OCI one;
// the uncompressed content is checked against the diff_ids either way.
func TestLoadDockerArchiveCompressedLayers(t *testing.T) {
	ctx := context.Background()
	layer := fileLayer(t, "f", "content")
	cfg := dockerConfig(t, []digest.Digest{digest.FromBytes(layer)})
	wrongCfg := dockerConfig(t, []digest.Digest{digest.FromBytes([]byte("other"))})
	tests := []struct {
		name          string
		comp          compression
		cfg           []byte
		wantManifest  string
		wantLayerType string
		wantErr       error
	}{
		{"gzip", compGzip, cfg, mediaTypeDockerManifest, mediaTypeDockerLayerGzip, nil},
		{"zstd", compZstd, cfg, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageLayerZstd, nil},
		{"diff_id mismatch", compGzip, wrongCfg, "", "", errdefs.ErrDataLoss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blob := compressBytes(t, layer, tt.comp)
			arch := makeTar(t, []tarFile{
				{name: "manifest.json", body: mustJSON(t, []dockerManifest{{Config: "c.json", Layers: []string{"l/layer.tar"}}})},
				{name: "c.json", body: tt.cfg},
				{name: "l/layer.tar", body: blob},
			})
			s := newMemStore()
			loaded, err := Load(ctx, bytes.NewReader(arch), s)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want class %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(loaded) != 1 || len(loaded[0].Names) != 0 {
				t.Fatalf("got %+v, want one unnamed image", loaded)
			}
			m := manifestOf(t, s, loaded[0].Manifest)
			if m.MediaType != tt.wantManifest || len(m.Layers) != 1 || m.Layers[0].MediaType != tt.wantLayerType || m.Layers[0].Digest != digest.FromBytes(blob) {
				t.Errorf("got manifest %+v, want %s with a %s layer %s", m, tt.wantManifest, tt.wantLayerType, digest.FromBytes(blob))
			}
		})
	}
}

// TestLoadOCINames covers how index.json entries name images.
func TestLoadOCINames(t *testing.T) {
	ctx := context.Background()
	src := newMemStore()
	img := buildImage(t, src, [][]byte{fileLayer(t, "f", "x")}, compGzip, ocispec.ImageConfig{})
	named := func(ann map[string]string) ocispec.Descriptor {
		d := img.manifest
		d.Annotations = ann
		return d
	}
	tests := []struct {
		name    string
		ann     map[string]string
		names   []string
		refName string
	}{
		{"none", nil, nil, ""},
		{"tag only", map[string]string{ocispec.AnnotationRefName: "latest"}, nil, "latest"},
		{"familiar ref", map[string]string{ocispec.AnnotationRefName: "busybox:1.36"}, []string{"docker.io/library/busybox:1.36"}, ""},
		{"full ref", map[string]string{ocispec.AnnotationRefName: "quay.io/a/b:c"}, []string{"quay.io/a/b:c"}, ""},
		{"containerd name wins", map[string]string{ocispec.AnnotationRefName: "1", AnnotationImageName: "docker.io/library/busybox:1"}, []string{"docker.io/library/busybox:1"}, ""},
		{"odd ref name", map[string]string{ocispec.AnnotationRefName: "Not:A:Ref"}, nil, "Not:A:Ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var entries []tarFile
			for _, d := range []ocispec.Descriptor{img.manifest, img.config, img.layers[0]} {
				data, _ := src.get(d.Digest)
				entries = append(entries, tarFile{name: blobPath(d.Digest), body: data})
			}
			entries = append(entries, tarFile{name: "index.json", body: mustJSON(t, ocispec.Index{
				Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{named(tt.ann)},
			})})
			loaded, err := Load(ctx, bytes.NewReader(makeTar(t, entries)), newMemStore())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := []Loaded{{Names: tt.names, Manifest: img.manifest, RefName: tt.refName}}
			if !loadedEqual(loaded, want) {
				t.Errorf("got %+v, want %+v", loaded, want)
			}
			if loaded[0].Manifest.Annotations != nil {
				t.Errorf("got annotations %v on the manifest, want the names taken off", loaded[0].Manifest.Annotations)
			}
		})
	}
}

// TestLoadStreams checks that Load hands layers on as it reads them:
// the store sees a layer before the archive's end (manifest.json last).
func TestLoadStreams(t *testing.T) {
	layer := fileLayer(t, "f", strings.Repeat("x", 1<<20))
	cfg := dockerConfig(t, []digest.Digest{digest.FromBytes(layer)})
	arch := makeTar(t, []tarFile{
		{name: "l.tar", body: layer},
		{name: "c.json", body: cfg},
		{name: "manifest.json", body: mustJSON(t, []dockerManifest{{Config: "c.json", Layers: []string{"l.tar"}}})},
	})
	r := &positionReader{r: bytes.NewReader(arch)}
	ing := &watchingIngester{memStore: newMemStore(), pos: r}
	if _, err := Load(context.Background(), r, ing); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if ing.firstDone == 0 || ing.firstDone > int64(len(layer))+256<<10 {
		t.Errorf("got the first blob stored after reading %d of %d bytes, want it stored as it passed", ing.firstDone, len(arch))
	}
}

type positionReader struct {
	r io.Reader
	n int64
}

func (p *positionReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

type watchingIngester struct {
	*memStore
	pos       *positionReader
	firstDone int64
}

func (w *watchingIngester) Ingest(ctx context.Context, r io.Reader, exp ocispec.Descriptor) (ocispec.Descriptor, error) {
	d, err := w.memStore.Ingest(ctx, r, exp)
	if w.firstDone == 0 {
		w.firstDone = w.pos.n
	}
	return d, err
}

// strictStore answers ErrAlreadyExists, without reading, for a blob it
// has when it is given the digest, as a content store may.
type strictStore struct{ *memStore }

func (s strictStore) Ingest(ctx context.Context, r io.Reader, exp ocispec.Descriptor) (ocispec.Descriptor, error) {
	if _, ok := s.get(exp.Digest); ok && exp.Digest != "" {
		return ocispec.Descriptor{}, errdefs.ErrAlreadyExists
	}
	return s.memStore.Ingest(ctx, r, exp)
}

// TestLoadTwice loads the same archives twice into one store that refuses
// blobs it has: the second load gives the same images.
func TestLoadTwice(t *testing.T) {
	ctx := context.Background()
	src := newMemStore()
	img := buildImage(t, src, [][]byte{fileLayer(t, "a", "1")}, compGzip, ocispec.ImageConfig{})
	var saved bytes.Buffer
	if err := Save(ctx, &saved, []Image{{Names: []string{"docker.io/library/a:latest"}, Manifest: img.manifest}}, src); err != nil {
		t.Fatal(err)
	}
	files, _, _ := legacyArchive(t, fileLayer(t, "one", "1"), fileLayer(t, "two", "2"), fileLayer(t, "three", "3"))
	for name, arch := range map[string][]byte{"saved": saved.Bytes(), "legacy": makeTar(t, files)} {
		t.Run(name, func(t *testing.T) {
			s := strictStore{newMemStore()}
			first, err := Load(ctx, bytes.NewReader(arch), s)
			if err != nil {
				t.Fatalf("first Load: %v", err)
			}
			second, err := Load(ctx, bytes.NewReader(arch), s)
			if err != nil {
				t.Fatalf("second Load: %v", err)
			}
			if !loadedEqual(first, second) {
				t.Errorf("got %+v the second time, want %+v", second, first)
			}
		})
	}
}
