package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// loadDocker builds, stores and returns a manifest for each image of
// manifest.json.
func (a *archive) loadDocker(ctx context.Context) ([]Loaded, error) {
	var dms []dockerManifest
	if err := json.Unmarshal(a.special["manifest.json"], &dms); err != nil {
		return nil, fmt.Errorf("manifest.json: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(dms) == 0 {
		return nil, fmt.Errorf("manifest.json lists no image: %w", errdefs.ErrInvalidArgument)
	}
	if len(dms) > maxImages {
		return nil, fmt.Errorf("manifest.json lists more than %d images: %w", maxImages, errdefs.ErrInvalidArgument)
	}
	var out []Loaded
	for i, dm := range dms {
		l, err := a.dockerImage(ctx, dm)
		if err != nil {
			return nil, fmt.Errorf("manifest.json: image %d (%s): %w", i, dm.Config, err)
		}
		out = mergeLoaded(out, l)
	}
	return out, nil
}

func (a *archive) dockerImage(ctx context.Context, dm dockerManifest) (Loaded, error) {
	var l Loaded
	for _, t := range dm.RepoTags {
		r, err := parseRef(t)
		if err != nil {
			return l, fmt.Errorf("RepoTags: %w", err)
		}
		if !contains(l.Names, r.String()) {
			l.Names = append(l.Names, r.String())
		}
	}
	if len(dm.Layers) > maxLayers {
		return l, fmt.Errorf("more than %d layers: %w", maxLayers, errdefs.ErrInvalidArgument)
	}
	ce, err := a.lookup(dm.Config)
	if err != nil {
		return l, fmt.Errorf("config: %w", err)
	}
	if ce.doc == nil {
		return l, fmt.Errorf("config %s is not a JSON document of at most %d bytes: %w", dm.Config, maxDocument, errdefs.ErrInvalidArgument)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(ce.doc, &cfg); err != nil {
		return l, fmt.Errorf("config %s: %v: %w", dm.Config, err, errdefs.ErrInvalidArgument)
	}
	if cfg.RootFS.Type != "layers" {
		return l, fmt.Errorf("config %s: rootfs type %q, want \"layers\": %w", dm.Config, cfg.RootFS.Type, errdefs.ErrInvalidArgument)
	}
	if len(cfg.RootFS.DiffIDs) != len(dm.Layers) {
		return l, fmt.Errorf("%d layers, config %s has %d diff_ids: %w", len(dm.Layers), dm.Config, len(cfg.RootFS.DiffIDs), errdefs.ErrInvalidArgument)
	}
	layers, oci, err := a.dockerLayers(dm.Layers, cfg.RootFS.DiffIDs)
	if err != nil {
		return l, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: mediaTypeDockerManifest,
		Config:    ocispec.Descriptor{MediaType: mediaTypeDockerConfig, Digest: ce.desc.Digest, Size: ce.desc.Size},
		Layers:    layers,
	}
	if oci {
		m.MediaType, m.Config.MediaType = ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig
	}
	data, err := json.Marshal(m)
	if err != nil {
		return l, err
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if _, err := a.ing.Ingest(ctx, bytes.NewReader(data), desc); err != nil && !errdefs.IsAlreadyExists(err) {
		return l, fmt.Errorf("store manifest %s: %w", desc.Digest, err)
	}
	if cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	}
	l.Manifest = desc
	return l, nil
}

// dockerLayers describes the layers manifest.json names, checking each
// against its diff_id. oci is true when a layer is zstd-compressed,
// which only an OCI manifest can say.
func (a *archive) dockerLayers(paths []string, diffIDs []digest.Digest) (layers []ocispec.Descriptor, oci bool, err error) {
	for i, p := range paths {
		e, err := a.lookup(p)
		if err != nil {
			return nil, false, fmt.Errorf("layer %d: %w", i, err)
		}
		d := ocispec.Descriptor{Digest: e.desc.Digest, Size: e.desc.Size}
		switch e.comp {
		case uncompressed:
			d.MediaType = mediaTypeDockerLayer
		case compGzip:
			d.MediaType = mediaTypeDockerLayerGzip
		case compZstd:
			d.MediaType, oci = ocispec.MediaTypeImageLayerZstd, true
		default:
			return nil, false, fmt.Errorf("layer %s is %s-compressed; layers may be uncompressed, gzip or zstd: %w", p, e.comp, errdefs.ErrNotImplemented)
		}
		// diffID is unknown only for a compressed layer under blobs/,
		// whose name the store verified; unpacking checks it later.
		if e.diffID != "" && e.diffID != diffIDs[i] {
			return nil, false, fmt.Errorf("layer %s has content %s, the config's diff_id is %s: %w", p, e.diffID, diffIDs[i], errdefs.ErrDataLoss)
		}
		layers = append(layers, d)
	}
	if oci {
		for i := range layers {
			switch layers[i].MediaType {
			case mediaTypeDockerLayer:
				layers[i].MediaType = ocispec.MediaTypeImageLayer
			case mediaTypeDockerLayerGzip:
				layers[i].MediaType = ocispec.MediaTypeImageLayerGzip
			}
		}
	}
	return layers, oci, nil
}
