package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := newMemStore()
	base := fileLayer(t, "etc/base", "base\n")
	a := buildImage(t, src, [][]byte{base, fileLayer(t, "a", "a\n")}, compGzip, ocispec.ImageConfig{Cmd: []string{"/a"}})
	b := buildImage(t, src, [][]byte{base, fileLayer(t, "b", "b\n")}, compGzip, ocispec.ImageConfig{Cmd: []string{"/b"}})
	images := []Image{
		{Names: []string{"docker.io/library/a:latest", "docker.io/library/a:1.0"}, Manifest: a.manifest},
		{Names: []string{"example.com:5000/team/b:v2"}, Manifest: b.manifest},
		{Manifest: a.manifest}, // the same image again, unnamed: no new blob
	}
	var out bytes.Buffer
	if err := Save(ctx, &out, images, src); err != nil {
		t.Fatalf("Save: %v", err)
	}
	var again bytes.Buffer
	if err := Save(ctx, &again, images, src); err != nil {
		t.Fatalf("Save again: %v", err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Errorf("two saves of the same images differ")
	}

	files, _ := readTar(t, out.Bytes()) // fails on repeated entries
	blobs := 0
	for name := range files {
		if strings.HasPrefix(name, "blobs/sha256/") && len(name) > len("blobs/sha256/") {
			blobs++
		}
	}
	// 2 manifests, 2 configs, 3 distinct layers.
	if blobs != 7 {
		t.Errorf("got %d blobs in the archive, want 7", blobs)
	}
	var dms []dockerManifest
	if err := json.Unmarshal(files["manifest.json"], &dms); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(dms) != 2 || !slices.Equal(dms[0].RepoTags, []string{"docker.io/library/a:latest", "docker.io/library/a:1.0"}) || !slices.Equal(dms[1].RepoTags, []string{"example.com:5000/team/b:v2"}) {
		t.Errorf("got manifest.json %+v, want two images tagged docker.io/library/a:latest, docker.io/library/a:1.0 and example.com:5000/team/b:v2", dms)
	}
	if got, want := dms[0].Config, blobPath(a.config.Digest); got != want {
		t.Errorf("got Config %s, want %s", got, want)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	var refs []string
	for _, m := range idx.Manifests {
		refs = append(refs, m.Annotations[ocispec.AnnotationRefName]+"="+m.Annotations[AnnotationImageName])
	}
	wantRefs := []string{"latest=docker.io/library/a:latest", "1.0=docker.io/library/a:1.0", "v2=example.com:5000/team/b:v2", "="}
	if !slices.Equal(refs, wantRefs) {
		t.Errorf("got index.json names %q, want %q", refs, wantRefs)
	}
	if got := string(files["repositories"]); !strings.Contains(got, `"docker.io/library/a":{"1.0":"`+a.layers[1].Digest.Encoded()) {
		t.Errorf("got repositories %s, want a:1.0 naming the top layer", got)
	}

	dst := newMemStore()
	loaded, err := Load(ctx, bytes.NewReader(out.Bytes()), dst)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []Loaded{
		{Names: []string{"docker.io/library/a:latest", "docker.io/library/a:1.0"}, Manifest: a.manifest},
		{Names: []string{"example.com:5000/team/b:v2"}, Manifest: b.manifest},
	}
	if !loadedEqual(loaded, want) {
		t.Errorf("got loaded %+v, want %+v", loaded, want)
	}
	for _, img := range []builtImage{a, b} {
		for _, d := range append([]ocispec.Descriptor{img.manifest, img.config}, img.layers...) {
			got, ok := dst.get(d.Digest)
			orig, _ := src.get(d.Digest)
			if !ok || !bytes.Equal(got, orig) {
				t.Errorf("blob %s not loaded as saved", d.Digest)
			}
		}
	}
}

func loadedEqual(got, want []Loaded) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !slices.Equal(g.Names, w.Names) || g.RefName != w.RefName || g.Manifest.Digest != w.Manifest.Digest ||
			g.Manifest.MediaType != w.Manifest.MediaType || g.Manifest.Size != w.Manifest.Size {
			return false
		}
	}
	return true
}

// TestSaveIndex saves a two-platform image of which the store has one
// platform: the archive keeps the index, and manifest.json the platform
// there is.
func TestSaveIndex(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	here := buildImage(t, s, [][]byte{fileLayer(t, "here", "x")}, compGzip, ocispec.ImageConfig{})
	there := buildImage(t, s, [][]byte{fileLayer(t, "there", "y")}, compGzip, ocispec.ImageConfig{})
	delete(s.blobs, there.layers[0].Digest) // pulled for one platform only
	here.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	there.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	idx := putJSON(t, s, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{there.manifest, here.manifest},
	})
	var out bytes.Buffer
	if err := Save(ctx, &out, []Image{{Names: []string{"docker.io/library/multi:latest"}, Manifest: idx}}, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	files, _ := readTar(t, out.Bytes())
	var dms []dockerManifest
	json.Unmarshal(files["manifest.json"], &dms)
	if len(dms) != 1 || dms[0].Config != blobPath(here.config.Digest) || !slices.Equal(dms[0].RepoTags, []string{"docker.io/library/multi:latest"}) {
		t.Errorf("got manifest.json %+v, want the one complete platform tagged multi:latest", dms)
	}
	if _, ok := files[blobPath(there.manifest.Digest)]; ok {
		t.Errorf("the incomplete platform's manifest is in the archive")
	}
	loaded, err := Load(ctx, bytes.NewReader(out.Bytes()), newMemStore())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []Loaded{{Names: []string{"docker.io/library/multi:latest"}, Manifest: idx}}; !loadedEqual(loaded, want) {
		t.Errorf("got %+v, want %+v", loaded, want)
	}
}

func TestSaveErrors(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	img := buildImage(t, s, [][]byte{fileLayer(t, "f", "x")}, compGzip, ocispec.ImageConfig{})
	noLayer := buildImage(t, s, [][]byte{fileLayer(t, "g", "y")}, compGzip, ocispec.ImageConfig{})
	delete(s.blobs, noLayer.layers[0].Digest)
	corrupt := buildImage(t, s, [][]byte{fileLayer(t, "h", "z")}, compGzip, ocispec.ImageConfig{})
	s.blobs[corrupt.layers[0].Digest] = []byte("not the layer")
	short := img.manifest
	short.Size--
	tests := []struct {
		name  string
		image Image
		class error
	}{
		{"bad name", Image{Names: []string{"UPPER/case"}, Manifest: img.manifest}, errdefs.ErrInvalidArgument},
		{"missing layer", Image{Manifest: noLayer.manifest}, errdefs.ErrNotFound},
		{"corrupt layer", Image{Manifest: corrupt.manifest}, errdefs.ErrDataLoss},
		{"wrong size", Image{Manifest: short}, errdefs.ErrDataLoss},
		{"config as manifest", Image{Manifest: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: img.config.Digest, Size: img.config.Size}}, errdefs.ErrInvalidArgument},
		{"bad digest", Image{Manifest: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:nope", Size: 1}}, errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Save(ctx, &bytes.Buffer{}, []Image{tt.image}, s)
			if !errors.Is(err, tt.class) {
				t.Errorf("got error %v, want one of class %v", err, tt.class)
			}
		})
	}
}
