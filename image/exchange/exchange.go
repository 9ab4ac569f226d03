package exchange

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Provider gives the content of blobs by descriptor (by digest).
type Provider interface {
	Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Ingester stores a blob read from r. When expected.Digest is set the
// blob must have that digest (and expected.Size, when not zero) or
// Ingest fails and keeps nothing; when it is empty the Ingester computes
// it (sha256). Ingest returns the stored blob's descriptor, with its
// digest and size. A blob already present is not an error: Ingest
// returns its descriptor (errdefs.ErrAlreadyExists is tolerated when the
// digest was given).
type Ingester interface {
	Ingest(ctx context.Context, r io.Reader, expected ocispec.Descriptor) (ocispec.Descriptor, error)
}

// Image is one image to save: the names it goes by (full references such
// as docker.io/library/busybox:latest, or none) and its manifest, or for a
// multi-platform image its index.
type Image struct {
	Names    []string
	Manifest ocispec.Descriptor
}

// Loaded is one image found in an archive.
type Loaded struct {
	// Names are the image's full references (docker.io/library/busybox:latest),
	// in archive order without repeats; empty when the archive names none.
	Names []string
	// Manifest is the image's manifest, or its index when the archive
	// holds an OCI index; its MediaType tells which.
	Manifest ocispec.Descriptor
	// RefName is an OCI org.opencontainers.image.ref.name that is only a
	// tag ("latest", "v1.0"): it names no repository, so it is not in
	// Names, and the caller may complete it (as `podman load` and
	// `ctr import --base-name` do).
	RefName string
}

// Annotations and media types this package reads and writes.
const (
	// AnnotationImageName is the full reference containerd (and so Docker
	// 25 and later) writes on index.json entries.
	AnnotationImageName = "io.containerd.image.name"

	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	mediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// Limits on what an archive may make Load hold in memory.
const (
	maxDocument    = 8 << 20  // one JSON document: manifest.json, index.json, a manifest, a config
	maxDocuments   = 64 << 20 // all documents kept at once
	maxEntries     = 1 << 17  // tar entries in one archive
	maxLayers      = 4096     // layers of one image
	maxImages      = 1 << 14  // images in one manifest.json or index.json
	maxIndexDepth  = 8        // indexes inside indexes
	maxSymlinkHops = 16       // symlinks followed to find a layer
)

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList
}

func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}
