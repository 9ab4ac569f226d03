package registry

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's manifest media types (OCI's are in image-spec).
const (
	MediaTypeDockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// acceptManifests is the Accept header of manifest requests: every type
// this package reads, and schema 1 last so that a registry holding only
// that answers with it and the caller gets a clear error rather than a 404.
const acceptManifests = ocispec.MediaTypeImageIndex + ", " + ocispec.MediaTypeImageManifest + ", " +
	MediaTypeDockerManifestList + ", " + MediaTypeDockerManifest + ", " +
	MediaTypeDockerSchema1Signed + ";q=0.5, " + MediaTypeDockerSchema1 + ";q=0.5"

// IsIndex reports whether mt is an OCI index or a Docker manifest list.
func IsIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == MediaTypeDockerManifestList
}

// IsManifest reports whether mt is an OCI or Docker schema2 image manifest.
func IsManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == MediaTypeDockerManifest
}

func isSchema1(mt string) bool {
	return mt == MediaTypeDockerSchema1 || mt == MediaTypeDockerSchema1Signed
}

// manifestProbe holds the fields that tell manifest kinds apart.
type manifestProbe struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Manifests     json.RawMessage `json:"manifests"`
	Config        json.RawMessage `json:"config"`
	FSLayers      json.RawMessage `json:"fsLayers"`
}

// manifestType decides the media type of a manifest body a registry sent
// with contentType: the header when it names a known type (and the body
// agrees), the body's own mediaType or shape when the header is generic.
// Schema 1 and unknown types are refused as not implemented.
func manifestType(contentType string, body []byte) (string, error) {
	ct, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		ct = strings.TrimSpace(contentType)
	}
	var p manifestProbe
	if err := json.Unmarshal(body, &p); err != nil {
		if isSchema1(ct) {
			return "", schema1Error(ct)
		}
		return "", fmt.Errorf("manifest is not valid JSON: %w", invalid(err))
	}
	if isSchema1(ct) || p.SchemaVersion == 1 || isSchema1(p.MediaType) || len(p.FSLayers) > 0 {
		return "", schema1Error(firstNonEmpty(ct, p.MediaType, MediaTypeDockerSchema1))
	}
	switch ct {
	case "", "application/json", "text/plain", "application/octet-stream":
		ct = p.MediaType
		if ct == "" {
			switch {
			case len(p.Manifests) > 0:
				ct = ocispec.MediaTypeImageIndex
			case len(p.Config) > 0:
				ct = ocispec.MediaTypeImageManifest
			default:
				return "", fmt.Errorf("manifest has no media type and is neither an index nor an image manifest: %w", errdefs.ErrNotImplemented)
			}
		}
	}
	if !IsIndex(ct) && !IsManifest(ct) {
		return "", fmt.Errorf("unsupported manifest media type %q: %w", ct, errdefs.ErrNotImplemented)
	}
	if p.MediaType != "" && p.MediaType != ct {
		return "", fmt.Errorf("registry sent a manifest as %q whose mediaType field is %q: %w", ct, p.MediaType, errdefs.ErrInvalidArgument)
	}
	if p.SchemaVersion != 2 {
		return "", fmt.Errorf("%s has schemaVersion %d, want 2: %w", ct, p.SchemaVersion, errdefs.ErrInvalidArgument)
	}
	if IsIndex(ct) && len(p.Config) > 0 || IsManifest(ct) && len(p.Manifests) > 0 {
		return "", fmt.Errorf("%s has the fields of another kind of manifest: %w", ct, errdefs.ErrInvalidArgument)
	}
	return ct, nil
}

func schema1Error(mt string) error {
	return fmt.Errorf("manifest media type %q (Docker image manifest schema 1) is not supported; push the image again with a current client: %w",
		mt, errdefs.ErrNotImplemented)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
