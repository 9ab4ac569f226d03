package exchange

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestLoadHostile feeds Load broken and hostile archives: each must end
// in a clear error of the right class, never a panic.
func TestLoadHostile(t *testing.T) {
	layer := fileLayer(t, "f", "x")
	cfg := dockerConfig(t, []digest.Digest{digest.FromBytes(layer)})
	dm := func(config string, layers ...string) tarFile {
		return tarFile{name: "manifest.json", body: mustJSON(t, []dockerManifest{{Config: config, Layers: layers}})}
	}
	good := []tarFile{{name: "c.json", body: cfg}, {name: "l.tar", body: layer}}

	// An OCI layout whose parts can be broken one by one.
	src := newMemStore()
	img := buildImage(t, src, [][]byte{layer}, compGzip, ocispec.ImageConfig{})
	blob := func(d ocispec.Descriptor) tarFile {
		data, _ := src.get(d.Digest)
		return tarFile{name: blobPath(d.Digest), body: data}
	}
	index := func(ds ...ocispec.Descriptor) tarFile {
		return tarFile{name: "index.json", body: mustJSON(t, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: ds})}
	}
	oci := []tarFile{blob(img.manifest), blob(img.config), blob(img.layers[0])}
	bigger := img.manifest
	bigger.Size++
	liar := blob(img.layers[0])
	liar.body = []byte("not what the name says")

	tests := []struct {
		name    string
		files   []tarFile
		raw     []byte // instead of files
		class   error
		message string
	}{
		{name: "not a tar", raw: []byte(strings.Repeat("garbage!", 200)), class: errdefs.ErrInvalidArgument, message: "read archive"},
		{name: "empty", raw: []byte{}, class: errdefs.ErrInvalidArgument, message: "neither index.json nor manifest.json"},
		{name: "pre-1.10 docker", files: []tarFile{{name: "repositories", body: []byte("{}")}}, class: errdefs.ErrNotImplemented},
		{name: "entry leaves", files: []tarFile{{name: "../manifest.json", body: []byte("[]")}}, class: errdefs.ErrInvalidArgument, message: "leaves the archive"},
		{name: "absolute entry", files: []tarFile{{name: "/manifest.json", body: []byte("[]")}}, class: errdefs.ErrInvalidArgument, message: "leaves the archive"},
		{name: "duplicate entry", files: append(append([]tarFile{}, good...), tarFile{name: "./l.tar", body: layer}), class: errdefs.ErrInvalidArgument, message: "appears twice"},
		{name: "duplicate manifest.json", files: []tarFile{dm("c.json"), dm("c.json")}, class: errdefs.ErrInvalidArgument, message: "appears twice"},
		{name: "malformed manifest.json", files: append(good, tarFile{name: "manifest.json", body: []byte(`[{"Config": 1`)}), class: errdefs.ErrInvalidArgument, message: "manifest.json"},
		{name: "empty manifest.json", files: append(good, tarFile{name: "manifest.json", body: []byte(`[]`)}), class: errdefs.ErrInvalidArgument, message: "no image"},
		{name: "config path leaves", files: append(good, dm("../c.json", "l.tar")), class: errdefs.ErrInvalidArgument, message: "leaves the archive"},
		{name: "layer path leaves", files: append(good, dm("c.json", "../../etc/passwd")), class: errdefs.ErrInvalidArgument, message: "leaves the archive"},
		{name: "absent layer", files: append(good, dm("c.json", "missing.tar")), class: errdefs.ErrNotFound, message: "missing.tar"},
		{name: "absent config", files: append(good, dm("nope.json", "l.tar")), class: errdefs.ErrNotFound},
		{name: "too few layers", files: append(good, dm("c.json")), class: errdefs.ErrInvalidArgument, message: "diff_ids"},
		{name: "layer is not the diff_id", files: append(good, tarFile{name: "m.tar", body: fileLayer(t, "g", "y")}, dm("c.json", "m.tar")), class: errdefs.ErrDataLoss},
		{name: "config not JSON", files: append(good, dm("l.tar", "l.tar")), class: errdefs.ErrInvalidArgument, message: "not a JSON document"},
		{name: "config rootfs type", files: append([]tarFile{{name: "c.json", body: []byte(`{"rootfs":{"type":"zfs"}}`)}}, dm("c.json")), class: errdefs.ErrInvalidArgument, message: "rootfs type"},
		{name: "bad repo tag", files: append(good, tarFile{name: "manifest.json", body: mustJSON(t, []dockerManifest{{Config: "c.json", RepoTags: []string{"Bad Tag"}, Layers: []string{"l.tar"}}})}), class: errdefs.ErrInvalidArgument, message: "RepoTags"},
		{name: "symlink loop", files: append(good, tarFile{name: "a", typ: tar.TypeSymlink, link: "b"}, tarFile{name: "b", typ: tar.TypeSymlink, link: "a"}, dm("c.json", "a")), class: errdefs.ErrInvalidArgument, message: "links"},
		{name: "symlink leaves", files: append(good, tarFile{name: "x/layer.tar", typ: tar.TypeSymlink, link: "../../l.tar"}, dm("c.json", "x/layer.tar")), class: errdefs.ErrInvalidArgument, message: "leaves the archive"},
		{name: "absolute symlink", files: append(good, tarFile{name: "x/layer.tar", typ: tar.TypeSymlink, link: "/l.tar"}, dm("c.json", "x/layer.tar")), class: errdefs.ErrInvalidArgument, message: "absolute"},
		{name: "huge manifest.json", files: []tarFile{{name: "manifest.json", body: []byte("["), size: 1 << 40}}, class: errdefs.ErrInvalidArgument, message: "more than"},
		{name: "truncated layer", files: []tarFile{{name: "l.tar", body: layer, size: 1 << 30}}, class: errdefs.ErrInvalidArgument},
		{name: "bzip2 layer", files: []tarFile{{name: "c.json", body: dockerConfig(t, []digest.Digest{digest.FromBytes([]byte("BZh9"))})}, {name: "l.tar", body: []byte("BZh9")}, dm("c.json", "l.tar")}, class: errdefs.ErrNotImplemented},
		{name: "blob name lies", files: []tarFile{liar}, class: errdefs.ErrFailedPrecondition},
		{name: "blob name not a digest", files: []tarFile{{name: "blobs/sha256/xyz", body: []byte("x")}}, class: errdefs.ErrInvalidArgument, message: "valid digest"},
		{name: "blob name unknown algorithm", files: []tarFile{{name: "blobs/md5/" + strings.Repeat("0", 32), body: []byte("x")}}, class: errdefs.ErrInvalidArgument},
		{name: "malformed index.json", files: append(oci, tarFile{name: "index.json", body: []byte("{")}), class: errdefs.ErrInvalidArgument, message: "index.json"},
		{name: "index.json schema 1", files: append(oci, tarFile{name: "index.json", body: []byte(`{"schemaVersion":1}`)}), class: errdefs.ErrInvalidArgument, message: "schema version"},
		{name: "layout version 2", files: append(oci, index(img.manifest), tarFile{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"2.0.0"}`)}), class: errdefs.ErrNotImplemented},
		{name: "index names no image", files: append(oci, index(ocispec.Descriptor{MediaType: "application/xml", Digest: img.config.Digest, Size: img.config.Size})), class: errdefs.ErrInvalidArgument, message: "no image"},
		{name: "index names absent manifest", files: []tarFile{index(img.manifest)}, class: errdefs.ErrNotFound},
		{name: "manifest lacks its layer", files: []tarFile{blob(img.manifest), blob(img.config), index(img.manifest)}, class: errdefs.ErrNotFound, message: "layer"},
		{name: "manifest lacks its config", files: []tarFile{blob(img.manifest), blob(img.layers[0]), index(img.manifest)}, class: errdefs.ErrNotFound, message: "config"},
		{name: "descriptor size wrong", files: append(oci, index(bigger)), class: errdefs.ErrInvalidArgument, message: "bytes"},
		{name: "media type mismatch", files: append(oci, index(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: img.manifest.Digest, Size: img.manifest.Size})), class: errdefs.ErrInvalidArgument, message: "media type"},
		{name: "bad containerd name", files: append(oci, index(ocispec.Descriptor{MediaType: img.manifest.MediaType, Digest: img.manifest.Digest, Size: img.manifest.Size, Annotations: map[string]string{AnnotationImageName: "::"}})), class: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == nil {
				raw = makeTar(t, tt.files)
			}
			s := newMemStore()
			loaded, err := Load(context.Background(), bytes.NewReader(raw), s)
			if err == nil {
				t.Fatalf("got %+v, want an error", loaded)
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("got error %q, want class %v", err, tt.class)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got error %q, want it to mention %q", err, tt.message)
			}
			if tt.name == "blob name lies" && s.len() != 0 {
				t.Errorf("got %d blobs stored, want none", s.len())
			}
		})
	}
}

// TestLoadBlobLinks loads an OCI layout whose layer blob is a link to a
// file of the same content elsewhere (every file is stored under the
// digest of its content, so the blob is there), and refuses a link to
// other content.
func TestLoadBlobLinks(t *testing.T) {
	src := newMemStore()
	img := buildImage(t, src, [][]byte{fileLayer(t, "f", "x"), fileLayer(t, "g", "y")}, compGzip, ocispec.ImageConfig{})
	var files []tarFile
	for _, d := range []ocispec.Descriptor{img.manifest, img.config, img.layers[1]} {
		data, _ := src.get(d.Digest)
		files = append(files, tarFile{name: blobPath(d.Digest), body: data})
	}
	layer, _ := src.get(img.layers[0].Digest)
	elsewhere := tarFile{name: "elsewhere/layer", body: layer}
	files = append(files, tarFile{name: "index.json", body: mustJSON(t, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{img.manifest}})})
	for _, tt := range []struct {
		name   string
		extra  []tarFile
		wantOK bool
	}{
		{"hardlink", []tarFile{elsewhere, {name: blobPath(img.layers[0].Digest), typ: tar.TypeLink, link: "elsewhere/layer"}}, true},
		{"symlink", []tarFile{{name: blobPath(img.layers[0].Digest), typ: tar.TypeSymlink, link: "../../elsewhere/layer"}, elsewhere}, true},
		{"link to other content", []tarFile{{name: blobPath(img.layers[0].Digest), typ: tar.TypeLink, link: blobPath(img.layers[1].Digest)}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), bytes.NewReader(makeTar(t, append(append([]tarFile{}, files...), tt.extra...))), newMemStore())
			if tt.wantOK && err != nil {
				t.Errorf("Load: %v", err)
			}
			if !tt.wantOK && !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("got error %v, want not found", err)
			}
		})
	}
}

// TestLoadIndexPartial loads an OCI index one of whose platforms is not in
// the archive (as Docker saves a pulled multi-platform image).
func TestLoadIndexPartial(t *testing.T) {
	src := newMemStore()
	here := buildImage(t, src, [][]byte{fileLayer(t, "a", "1")}, compGzip, ocispec.ImageConfig{})
	there := buildImage(t, src, [][]byte{fileLayer(t, "b", "2")}, compGzip, ocispec.ImageConfig{})
	idx := putJSON(t, src, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{there.manifest, here.manifest},
	})
	var files []tarFile
	for _, d := range []ocispec.Descriptor{idx, here.manifest, here.config, here.layers[0]} {
		data, _ := src.get(d.Digest)
		files = append(files, tarFile{name: blobPath(d.Digest), body: data})
	}
	entry := idx
	entry.Annotations = map[string]string{AnnotationImageName: "docker.io/library/multi:latest", ocispec.AnnotationRefName: "latest"}
	files = append(files, tarFile{name: "index.json", body: mustJSON(t, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{entry}})})
	loaded, err := Load(context.Background(), bytes.NewReader(makeTar(t, files)), newMemStore())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []Loaded{{Names: []string{"docker.io/library/multi:latest"}, Manifest: idx}}; !loadedEqual(loaded, want) {
		t.Errorf("got %+v, want %+v", loaded, want)
	}

	// Without the one platform it has, the index is incomplete.
	files = append(files[:1], files[4:]...)
	if _, err := Load(context.Background(), bytes.NewReader(makeTar(t, files)), newMemStore()); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("got error %v, want not found", err)
	}
}
