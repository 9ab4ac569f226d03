// Package testimage builds small container images in memory for tests:
// layers made from given files or the host's static busybox, compressed
// with gzip, zstd or not at all, with OCI or Docker schema2 media types,
// and multi-platform indexes over them. An image can be written as an OCI
// image layout directory and pushed to a registry with skopeo, the
// independent client the tests compare berth against.
//
// Builds are deterministic: the same Spec always gives the same digests.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker schema2 media types.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
)

// Compression of a layer blob.
type Compression int

const (
	Gzip Compression = iota
	Zstd
	Uncompressed
)

// Epoch returns the modification time of every file in a built layer and
// the creation time of every built image.
func Epoch() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// File is one entry of a layer.
type File struct {
	Name string
	// Type is a tar type flag; zero means a regular file.
	Type byte
	// Mode holds the permission bits; zero means 0644 (0755 for directories).
	Mode int64
	Data []byte
	// Link is the target of a symlink or hardlink.
	Link     string
	UID, GID int
}

// Layer is a list of files and how to compress them.
type Layer struct {
	Files       []File
	Compression Compression
}

// Spec describes an image to build.
type Spec struct {
	// Platform defaults to linux and the host's architecture.
	Platform ocispec.Platform
	Layers   []Layer
	Cmd, Env []string
	// Docker selects Docker schema2 media types instead of OCI ones.
	Docker bool
}

// Blobs holds content by digest.
type Blobs map[digest.Digest][]byte

// Add stores b and returns its digest.
func (bs Blobs) Add(b []byte) digest.Digest {
	d := digest.FromBytes(b)
	bs[d] = b
	return d
}

// Open returns a reader of the blob desc names, with the signature of a
// registry push provider.
func (bs Blobs) Open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	b, ok := bs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: not in the test image", desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Image is a built image: a manifest, its config and its layers.
type Image struct {
	// Manifest describes the manifest blob, with Platform set.
	Manifest      ocispec.Descriptor
	ManifestBytes []byte
	Config        ocispec.Descriptor
	ConfigBytes   []byte
	Layers        []ocispec.Descriptor
	DiffIDs       []digest.Digest
	// Blobs holds the manifest, the config and every layer.
	Blobs Blobs
}

// Build builds the image spec describes.
func Build(t testing.TB, spec Spec) *Image {
	t.Helper()
	img, err := build(spec)
	if err != nil {
		t.Fatalf("build test image: %v", err)
	}
	return img
}

func build(spec Spec) (*Image, error) {
	p := spec.Platform
	if p.OS == "" {
		p.OS = "linux"
	}
	if p.Architecture == "" {
		p.Architecture = runtime.GOARCH
	}
	img := &Image{Blobs: Blobs{}}
	for i, l := range spec.Layers {
		tarBytes, err := Tar(l.Files)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		blob, mt, err := compress(tarBytes, l.Compression, spec.Docker)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		img.DiffIDs = append(img.DiffIDs, digest.FromBytes(tarBytes))
		img.Layers = append(img.Layers, ocispec.Descriptor{MediaType: mt, Digest: img.Blobs.Add(blob), Size: int64(len(blob))})
	}
	created := Epoch()
	cfg := ocispec.Image{
		Created:  &created,
		Platform: p,
		Config:   ocispec.ImageConfig{Cmd: spec.Cmd, Env: spec.Env},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: img.DiffIDs},
	}
	if cfg.RootFS.DiffIDs == nil {
		cfg.RootFS.DiffIDs = []digest.Digest{}
	}
	var err error
	if img.ConfigBytes, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	cfgType, mfType := ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageManifest
	if spec.Docker {
		cfgType, mfType = MediaTypeDockerConfig, MediaTypeDockerManifest
	}
	img.Config = ocispec.Descriptor{MediaType: cfgType, Digest: img.Blobs.Add(img.ConfigBytes), Size: int64(len(img.ConfigBytes))}
	layers := img.Layers
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: mfType, Config: img.Config, Layers: layers}
	if img.ManifestBytes, err = json.Marshal(m); err != nil {
		return nil, err
	}
	img.Manifest = ocispec.Descriptor{
		MediaType: mfType, Digest: img.Blobs.Add(img.ManifestBytes), Size: int64(len(img.ManifestBytes)),
		Platform: &p,
	}
	return img, nil
}

// Tar writes files as an uncompressed tar stream, in the order given.
func Tar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		h := &tar.Header{
			Typeflag: typ, Name: f.Name, Linkname: f.Link, Mode: mode,
			Uid: f.UID, Gid: f.GID, ModTime: Epoch(), Format: tar.FormatPAX,
		}
		if typ == tar.TypeReg {
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", f.Name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("tar data %s: %w", f.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func compress(tarBytes []byte, c Compression, docker bool) ([]byte, string, error) {
	var buf bytes.Buffer
	switch c {
	case Gzip:
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(tarBytes); err != nil {
			return nil, "", err
		}
		if err := zw.Close(); err != nil {
			return nil, "", err
		}
		if docker {
			return buf.Bytes(), MediaTypeDockerLayerGzip, nil
		}
		return buf.Bytes(), ocispec.MediaTypeImageLayerGzip, nil
	case Zstd:
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			return nil, "", err
		}
		if _, err := zw.Write(tarBytes); err != nil {
			return nil, "", err
		}
		if err := zw.Close(); err != nil {
			return nil, "", err
		}
		// Docker has no zstd layer type; its tools accept the OCI one.
		return buf.Bytes(), ocispec.MediaTypeImageLayerZstd, nil
	case Uncompressed:
		if docker {
			return tarBytes, MediaTypeDockerLayer, nil
		}
		return tarBytes, ocispec.MediaTypeImageLayer, nil
	}
	return nil, "", fmt.Errorf("unknown compression %d", c)
}

// Index is a built multi-platform index (or Docker manifest list).
type Index struct {
	Desc   ocispec.Descriptor
	Bytes  []byte
	Images []*Image
	// Blobs holds the index and every blob of every image.
	Blobs Blobs
}

// NewIndex builds an index over images, which should differ in platform.
// docker selects a Docker manifest list instead of an OCI index.
func NewIndex(t testing.TB, docker bool, images ...*Image) *Index {
	t.Helper()
	idx := &Index{Images: images, Blobs: Blobs{}}
	mt := ocispec.MediaTypeImageIndex
	if docker {
		mt = MediaTypeDockerManifestList
	}
	manifests := []ocispec.Descriptor{}
	for _, img := range images {
		manifests = append(manifests, img.Manifest)
		for d, b := range img.Blobs {
			idx.Blobs[d] = b
		}
	}
	b, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: mt, Manifests: manifests})
	if err != nil {
		t.Fatalf("marshal index: %v", err)
	}
	idx.Bytes = b
	idx.Desc = ocispec.Descriptor{MediaType: mt, Digest: idx.Blobs.Add(b), Size: int64(len(b))}
	return idx
}

// LayerDigests returns the digests of the layers, for comparisons.
func (img *Image) LayerDigests() []digest.Digest {
	var out []digest.Digest
	for _, l := range img.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// Digests returns every blob digest, sorted.
func (bs Blobs) Digests() []digest.Digest {
	out := make([]digest.Digest, 0, len(bs))
	for d := range bs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
