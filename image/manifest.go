package image

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's media types, beside the OCI ones in ocispec.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeDockerForeign  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	mediaTypeDockerTar      = "application/vnd.docker.image.rootfs.diff.tar"
)

// isIndex reports whether a media type is an index or a manifest list.
func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerList
}

// isManifest reports whether a media type is an image manifest.
func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}

// layerMediaTypes are the layer types berth unpacks.
var layerMediaTypes = map[string]bool{
	ocispec.MediaTypeImageLayer:     true,
	ocispec.MediaTypeImageLayerGzip: true,
	ocispec.MediaTypeImageLayerZstd: true,
	mediaTypeDockerLayer:            true,
	mediaTypeDockerTar:              true,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": true, // fetched like any other blob
}

// parseManifest decodes and checks an image manifest: known layer types,
// a config, digests that parse.
func parseManifest(raw []byte, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	if m.MediaType == "" {
		m.MediaType = desc.MediaType
	}
	if err := m.Config.Digest.Validate(); err != nil {
		return m, fmt.Errorf("manifest %s: config digest: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	for _, l := range m.Layers {
		if err := l.Digest.Validate(); err != nil {
			return m, fmt.Errorf("manifest %s: layer digest %q: %v: %w", desc.Digest, l.Digest, err, errdefs.ErrInvalidArgument)
		}
		if l.MediaType == mediaTypeDockerForeign {
			return m, fmt.Errorf("manifest %s: layer %s is a foreign layer, which berth does not fetch: %w", desc.Digest, l.Digest, errdefs.ErrNotImplemented)
		}
		if !layerMediaTypes[l.MediaType] {
			return m, fmt.Errorf("manifest %s: layer %s has media type %q, which is not an image layer: %w", desc.Digest, l.Digest, l.MediaType, errdefs.ErrNotImplemented)
		}
		if l.Size < 0 {
			return m, fmt.Errorf("manifest %s: layer %s has negative size: %w", desc.Digest, l.Digest, errdefs.ErrInvalidArgument)
		}
	}
	return m, nil
}

// parseConfig decodes an image config and checks that its diff IDs
// match the manifest's layers one for one.
func parseConfig(raw []byte, dgst digest.Digest, layers int) (ocispec.Image, error) {
	var c ocispec.Image
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("config %s: %v: %w", dgst, err, errdefs.ErrInvalidArgument)
	}
	if len(c.RootFS.DiffIDs) != layers {
		return c, fmt.Errorf("config %s lists %d diff IDs for %d layers: %w", dgst, len(c.RootFS.DiffIDs), layers, errdefs.ErrInvalidArgument)
	}
	for _, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return c, fmt.Errorf("config %s: diff ID %q: %v: %w", dgst, d, err, errdefs.ErrInvalidArgument)
		}
	}
	return c, nil
}

// DefaultPlatform is the host's platform, as images name it.
func DefaultPlatform() ocispec.Platform {
	p := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}
