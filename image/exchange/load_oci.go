package exchange

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// loadOCI returns the images index.json names, after checking that each
// is complete in the archive.
func (a *archive) loadOCI() ([]Loaded, error) {
	if data := a.special[ocispec.ImageLayoutFile]; data != nil {
		var l ocispec.ImageLayout
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("oci-layout: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		if !strings.HasPrefix(l.Version, "1.") {
			return nil, fmt.Errorf("oci-layout: image layout version %q: %w", l.Version, errdefs.ErrNotImplemented)
		}
	}
	var idx ocispec.Index
	if err := json.Unmarshal(a.special["index.json"], &idx); err != nil {
		return nil, fmt.Errorf("index.json: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if idx.SchemaVersion != 2 {
		return nil, fmt.Errorf("index.json: schema version %d, want 2: %w", idx.SchemaVersion, errdefs.ErrInvalidArgument)
	}
	if len(idx.Manifests) > maxImages {
		return nil, fmt.Errorf("index.json lists more than %d manifests: %w", maxImages, errdefs.ErrInvalidArgument)
	}
	var out []Loaded
	checked := map[string]bool{}
	for _, d := range idx.Manifests {
		if !isIndex(d.MediaType) && !isManifest(d.MediaType) {
			continue // the layout spec: unknown media types are not an error
		}
		if !checked[d.Digest.String()] {
			if err := a.checkOCI(d, 0); err != nil {
				return nil, fmt.Errorf("index.json: %w", err)
			}
			checked[d.Digest.String()] = true
		}
		names, refName, err := ociNames(d)
		if err != nil {
			return nil, fmt.Errorf("index.json: manifest %s: %w", d.Digest, err)
		}
		out = mergeLoaded(out, Loaded{Names: names, Manifest: stripNames(d), RefName: refName})
	}
	return out, nil
}

// ociNames reads an index.json entry's names: containerd's full
// reference, and org.opencontainers.image.ref.name when it is one (tools
// write "busybox:latest" or "docker.io/library/busybox:latest" there as
// often as a bare tag).
func ociNames(d ocispec.Descriptor) ([]string, string, error) {
	var names []string
	if n := d.Annotations[AnnotationImageName]; n != "" {
		r, err := parseRef(n)
		if err != nil {
			return nil, "", fmt.Errorf("annotation %s: %w", AnnotationImageName, err)
		}
		names = append(names, r.String())
	}
	rn := d.Annotations[ocispec.AnnotationRefName]
	if rn == "" || len(names) > 0 {
		return names, "", nil
	}
	if strings.ContainsAny(rn, "/:") {
		if r, err := parseRef(rn); err == nil {
			return []string{r.String()}, "", nil
		}
	}
	return nil, rn, nil
}

// stripNames drops the naming annotations, which Loaded carries apart.
func stripNames(d ocispec.Descriptor) ocispec.Descriptor {
	out := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, Platform: d.Platform, ArtifactType: d.ArtifactType}
	for k, v := range d.Annotations {
		if k == AnnotationImageName || k == ocispec.AnnotationRefName {
			continue
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = v
	}
	return out
}

// mergeLoaded adds l, or its names to an earlier image with the same
// manifest.
func mergeLoaded(out []Loaded, l Loaded) []Loaded {
	for i := range out {
		if out[i].Manifest.Digest != l.Manifest.Digest {
			continue
		}
		for _, n := range l.Names {
			if !contains(out[i].Names, n) {
				out[i].Names = append(out[i].Names, n)
			}
		}
		if out[i].RefName == "" {
			out[i].RefName = l.RefName
		}
		return out
	}
	return append(out, l)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkOCI checks that a manifest or index and what it references are in
// the archive, with the sizes the descriptors give. An index may lack
// some of its manifests (a save of one platform of a multi-platform
// image) but not all.
func (a *archive) checkOCI(d ocispec.Descriptor, depth int) error {
	doc, err := a.blobDoc(d)
	if err != nil {
		return err
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(doc, &probe); err != nil {
		return fmt.Errorf("blob %s: %v: %w", d.Digest, err, errdefs.ErrInvalidArgument)
	}
	if probe.MediaType != "" && probe.MediaType != d.MediaType {
		return fmt.Errorf("blob %s has media type %q, its descriptor says %q: %w", d.Digest, probe.MediaType, d.MediaType, errdefs.ErrInvalidArgument)
	}
	if isIndex(d.MediaType) {
		return a.checkIndex(d, doc, depth)
	}
	return a.checkManifest(d, doc)
}

func (a *archive) checkIndex(d ocispec.Descriptor, doc []byte, depth int) error {
	if depth >= maxIndexDepth {
		return fmt.Errorf("index %s: indexes nested deeper than %d: %w", d.Digest, maxIndexDepth, errdefs.ErrInvalidArgument)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(doc, &idx); err != nil {
		return fmt.Errorf("index %s: %v: %w", d.Digest, err, errdefs.ErrInvalidArgument)
	}
	if len(idx.Manifests) > maxImages {
		return fmt.Errorf("index %s lists more than %d manifests: %w", d.Digest, maxImages, errdefs.ErrInvalidArgument)
	}
	present := 0
	for _, c := range idx.Manifests {
		if !isIndex(c.MediaType) && !isManifest(c.MediaType) {
			continue
		}
		if a.blobs[c.Digest] == nil {
			continue
		}
		if err := a.checkOCI(c, depth+1); err != nil {
			return fmt.Errorf("index %s: %w", d.Digest, err)
		}
		present++
	}
	if present == 0 {
		return fmt.Errorf("index %s: none of its manifests is in the archive: %w", d.Digest, errdefs.ErrNotFound)
	}
	return nil
}

func (a *archive) checkManifest(d ocispec.Descriptor, doc []byte) error {
	var m ocispec.Manifest
	if err := json.Unmarshal(doc, &m); err != nil {
		return fmt.Errorf("manifest %s: %v: %w", d.Digest, err, errdefs.ErrInvalidArgument)
	}
	if len(m.Layers) > maxLayers {
		return fmt.Errorf("manifest %s has more than %d layers: %w", d.Digest, maxLayers, errdefs.ErrInvalidArgument)
	}
	cfg, err := a.blobDoc(m.Config)
	if err != nil {
		return fmt.Errorf("manifest %s: config: %w", d.Digest, err)
	}
	for _, l := range m.Layers {
		if len(l.URLs) > 0 && a.blobs[l.Digest] == nil {
			continue // a foreign layer: fetched from its URLs, not shipped
		}
		if err := a.checkBlob(l); err != nil {
			return fmt.Errorf("manifest %s: layer: %w", d.Digest, err)
		}
	}
	if m.Config.MediaType != ocispec.MediaTypeImageConfig && m.Config.MediaType != mediaTypeDockerConfig {
		return nil // an artifact, not a container image
	}
	var img ocispec.Image
	if err := json.Unmarshal(cfg, &img); err != nil {
		return fmt.Errorf("manifest %s: config %s: %v: %w", d.Digest, m.Config.Digest, err, errdefs.ErrInvalidArgument)
	}
	if len(img.RootFS.DiffIDs) != len(m.Layers) {
		return fmt.Errorf("manifest %s has %d layers, its config %d diff_ids: %w", d.Digest, len(m.Layers), len(img.RootFS.DiffIDs), errdefs.ErrInvalidArgument)
	}
	return nil
}

// checkBlob checks that a descriptor's blob is in the archive with its
// size.
func (a *archive) checkBlob(d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("digest %q: %v: %w", d.Digest, err, errdefs.ErrInvalidArgument)
	}
	e := a.blobs[d.Digest]
	if e == nil {
		return fmt.Errorf("blob %s is not in the archive: %w", d.Digest, errdefs.ErrNotFound)
	}
	if e.desc.Size != d.Size {
		return fmt.Errorf("blob %s is %d bytes, its descriptor says %d: %w", d.Digest, e.desc.Size, d.Size, errdefs.ErrInvalidArgument)
	}
	return nil
}

// blobDoc returns a JSON blob's content, kept while the archive was read.
func (a *archive) blobDoc(d ocispec.Descriptor) ([]byte, error) {
	if err := a.checkBlob(d); err != nil {
		return nil, err
	}
	doc := a.blobs[d.Digest].doc
	if doc == nil {
		return nil, fmt.Errorf("blob %s is not a JSON document of at most %d bytes: %w", d.Digest, maxDocument, errdefs.ErrInvalidArgument)
	}
	return doc, nil
}
