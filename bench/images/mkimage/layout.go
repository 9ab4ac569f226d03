package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// summary describes a written image.
type summary struct {
	layers                   int
	compressed, uncompressed int64
	files                    int
}

// build writes an OCI image layout at dir (which must not exist yet) with
// one layer per spec, tagged "bench". Layers are compressed concurrently.
func build(dir string, specs []spec) (summary, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return summary{}, err
	}
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return summary{}, err
	}
	layers := make([]layer, len(specs))
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, s := range specs {
		g.Go(func() error {
			tmp := filepath.Join(dir, fmt.Sprintf("layer-%d.tmp", i))
			l, err := writeLayer(tmp, i, s)
			if err != nil {
				return err
			}
			layers[i] = l
			return os.Rename(tmp, filepath.Join(blobs, l.digest.Encoded()))
		})
	}
	if err := g.Wait(); err != nil {
		return summary{}, err
	}
	return writeManifest(dir, layers)
}

// writeManifest writes the config, the manifest, index.json and oci-layout.
func writeManifest(dir string, layers []layer) (summary, error) {
	created := mtime
	cfg := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config:   ocispec.ImageConfig{Cmd: []string{"/usr/bin/sh"}},
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	var sum summary
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.diffID)
		cfg.History = append(cfg.History, ocispec.History{Created: &created, CreatedBy: "bench/images/mkimage"})
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: l.digest, Size: l.size})
		sum.layers++
		sum.compressed += l.size
		sum.uncompressed += l.uncompressed
		sum.files += l.files
	}
	var err error
	if m.Config, err = writeBlob(dir, ocispec.MediaTypeImageConfig, cfg); err != nil {
		return summary{}, err
	}
	desc, err := writeBlob(dir, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		return summary{}, err
	}
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: "bench"}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{desc}}
	if err := writeJSON(filepath.Join(dir, ocispec.ImageIndexFile), index); err != nil {
		return summary{}, err
	}
	layout := ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}
	return sum, writeJSON(filepath.Join(dir, ocispec.ImageLayoutFile), layout)
}

// writeBlob stores v's JSON as a blob and returns its descriptor.
func writeBlob(dir, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := digest.FromBytes(data)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), data, 0o644); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
