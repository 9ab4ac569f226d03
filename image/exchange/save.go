package exchange

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerManifest is one entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
	// LayerSources is written by Docker for foreign layers; it is read
	// and ignored here.
	LayerSources map[digest.Digest]ocispec.Descriptor `json:",omitempty"`
}

// Save writes images to w as one tar that is both an OCI image layout and
// a docker-archive, the way Docker 25 and later write `docker save`:
// oci-layout, index.json (one entry per name, each with
// org.opencontainers.image.ref.name set to the tag and
// io.containerd.image.name to the full reference), manifest.json and
// repositories for docker-archive loaders, and every blob once under
// blobs/<alg>/<hex>. The same input gives the same bytes.
//
// Unlike Docker, RepoTags carry full references
// (docker.io/library/busybox:latest rather than busybox:latest): docker
// load reads both alike, and podman files a short name under localhost/.
//
// A multi-platform image (Manifest is an index) is saved with the
// platforms whose manifest, config and layers p has; others are left out
// of the archive (the index still lists them, as the OCI layout allows).
// manifest.json gets one entry per saved platform, the names going on the
// first. Blob content is verified against its digest while it is copied.
func Save(ctx context.Context, w io.Writer, images []Image, p Provider) error {
	pl := &savePlan{p: p, docs: map[digest.Digest][]byte{}, seen: map[digest.Digest]bool{}, repos: map[string]map[string]string{}}
	for i, img := range images {
		if err := pl.addImage(ctx, img); err != nil {
			return fmt.Errorf("save image %d (%s): %w", i, img.Manifest.Digest, err)
		}
	}
	return pl.write(ctx, w)
}

type savePlan struct {
	p     Provider
	blobs []ocispec.Descriptor         // in write order, each once
	docs  map[digest.Digest][]byte     // manifests, indexes and configs read while planning
	seen  map[digest.Digest]bool       // blobs already in blobs
	index []ocispec.Descriptor         // index.json's entries
	dm    []dockerManifest             // manifest.json's entries
	repos map[string]map[string]string // repositories: repository → tag → top layer
}

// platformImage is one platform's manifest with what it references.
type platformImage struct {
	manifest ocispec.Descriptor
	config   ocispec.Descriptor
	layers   []ocispec.Descriptor
}

// runnable tells whether a platform image is a container image a
// docker-archive can carry, not an attestation or another artifact.
func (pi platformImage) runnable() bool {
	if p := pi.manifest.Platform; p != nil && p.OS == "unknown" {
		return false
	}
	return pi.config.MediaType == ocispec.MediaTypeImageConfig || pi.config.MediaType == mediaTypeDockerConfig
}

func (pl *savePlan) addImage(ctx context.Context, img Image) error {
	refs := make([]ref, 0, len(img.Names))
	for _, n := range img.Names {
		r, err := parseRef(n)
		if err != nil {
			return err
		}
		refs = append(refs, r)
	}
	desc := img.Manifest
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("manifest digest %q: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	var plats []platformImage
	var err error
	switch {
	case isIndex(desc.MediaType):
		plats, err = pl.walkIndex(ctx, desc, 0)
		if err == nil && len(plats) == 0 {
			err = fmt.Errorf("no platform of index %s is complete in the store: %w", desc.Digest, errdefs.ErrNotFound)
		}
	case isManifest(desc.MediaType):
		var pi platformImage
		pi, err = pl.walkManifest(ctx, desc)
		plats = []platformImage{pi}
	default:
		err = fmt.Errorf("media type %q is neither a manifest nor an index: %w", desc.MediaType, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return err
	}
	pl.addBlob(desc)
	for _, pi := range plats {
		pl.addBlob(pi.manifest)
		pl.addBlob(pi.config)
		for _, l := range pi.layers {
			pl.addBlob(l)
		}
	}
	pl.addIndexEntries(desc, refs)
	pl.addDockerEntries(plats, refs)
	return nil
}

func (pl *savePlan) addBlob(d ocispec.Descriptor) {
	if !pl.seen[d.Digest] {
		pl.seen[d.Digest] = true
		pl.blobs = append(pl.blobs, ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	}
}

// addIndexEntries adds one index.json entry per name (one without
// annotations when there is no name), skipping pairs already there.
func (pl *savePlan) addIndexEntries(desc ocispec.Descriptor, refs []ref) {
	entry := func(r *ref) ocispec.Descriptor {
		e := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Platform: desc.Platform}
		if r != nil {
			e.Annotations = map[string]string{AnnotationImageName: r.String()}
			if r.tag != "" {
				e.Annotations[ocispec.AnnotationRefName] = r.tag
			}
		}
		return e
	}
	add := func(e ocispec.Descriptor) {
		for _, old := range pl.index {
			if old.Digest == e.Digest && old.Annotations[AnnotationImageName] == e.Annotations[AnnotationImageName] {
				return
			}
		}
		pl.index = append(pl.index, e)
	}
	if len(refs) == 0 {
		add(entry(nil))
	}
	for i := range refs {
		add(entry(&refs[i]))
	}
}

// addDockerEntries adds manifest.json entries (merging names into an entry
// for the same config and layers) and repositories. The names go on the
// first runnable platform.
func (pl *savePlan) addDockerEntries(plats []platformImage, refs []ref) {
	// Full references, not Docker's familiar "busybox:latest": docker
	// load reads both the same, and podman files a familiar name under
	// localhost/.
	var tags []string
	for _, r := range refs {
		if r.tag != "" {
			tags = append(tags, r.repo+":"+r.tag)
		}
	}
	var first *platformImage
	for i := range plats {
		pi := &plats[i]
		if !pi.runnable() {
			continue
		}
		e := dockerManifest{Config: blobPath(pi.config.Digest)}
		for _, l := range pi.layers {
			e.Layers = append(e.Layers, blobPath(l.Digest))
		}
		j := slices.IndexFunc(pl.dm, func(old dockerManifest) bool {
			return old.Config == e.Config && slices.Equal(old.Layers, e.Layers)
		})
		if j < 0 {
			pl.dm = append(pl.dm, e)
			j = len(pl.dm) - 1
		}
		if first != nil {
			continue
		}
		first = pi
		for _, n := range tags {
			if !slices.Contains(pl.dm[j].RepoTags, n) {
				pl.dm[j].RepoTags = append(pl.dm[j].RepoTags, n)
			}
		}
	}
	if first == nil || len(first.layers) == 0 {
		return
	}
	top := first.layers[len(first.layers)-1].Digest.Encoded()
	for _, r := range refs {
		if r.tag == "" {
			continue
		}
		repo := r.repo
		if pl.repos[repo] == nil {
			pl.repos[repo] = map[string]string{}
		}
		pl.repos[repo][r.tag] = top
	}
}

func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// walkIndex returns the complete platform images under an index, skipping
// children the store lacks.
func (pl *savePlan) walkIndex(ctx context.Context, desc ocispec.Descriptor, depth int) ([]platformImage, error) {
	if depth >= maxIndexDepth {
		return nil, fmt.Errorf("indexes nested deeper than %d: %w", maxIndexDepth, errdefs.ErrInvalidArgument)
	}
	data, err := pl.readDoc(ctx, desc)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("index %s: %v: %w", desc.Digest, err, errdefs.ErrDataLoss)
	}
	var out []platformImage
	for _, child := range idx.Manifests {
		switch {
		case isIndex(child.MediaType):
			sub, err := pl.walkIndex(ctx, child, depth+1)
			if errdefs.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				pl.addBlob(child)
			}
			out = append(out, sub...)
		case isManifest(child.MediaType):
			pi, err := pl.walkManifest(ctx, child)
			if errdefs.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, pi)
		}
	}
	return out, nil
}

// walkManifest reads a manifest and its config and checks that every
// layer is in the store.
func (pl *savePlan) walkManifest(ctx context.Context, desc ocispec.Descriptor) (platformImage, error) {
	pi := platformImage{manifest: desc}
	data, err := pl.readDoc(ctx, desc)
	if err != nil {
		return pi, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return pi, fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, errdefs.ErrDataLoss)
	}
	if err := m.Config.Digest.Validate(); err != nil {
		return pi, fmt.Errorf("manifest %s: config digest: %v: %w", desc.Digest, err, errdefs.ErrDataLoss)
	}
	if _, err := pl.readDoc(ctx, m.Config); err != nil {
		return pi, fmt.Errorf("manifest %s: config: %w", desc.Digest, err)
	}
	pi.config = m.Config
	for _, l := range m.Layers {
		if err := l.Digest.Validate(); err != nil {
			return pi, fmt.Errorf("manifest %s: layer digest: %v: %w", desc.Digest, err, errdefs.ErrDataLoss)
		}
		rc, err := pl.p.Open(ctx, l)
		if err != nil {
			return pi, fmt.Errorf("manifest %s: layer %s: %w", desc.Digest, l.Digest, err)
		}
		rc.Close()
		pi.layers = append(pi.layers, l)
	}
	return pi, nil
}

// readDoc reads a small blob whole and verifies it.
func (pl *savePlan) readDoc(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if data, ok := pl.docs[desc.Digest]; ok {
		return data, nil
	}
	if desc.Size < 0 || desc.Size > maxDocument {
		return nil, fmt.Errorf("blob %s: size %d out of range: %w", desc.Digest, desc.Size, errdefs.ErrInvalidArgument)
	}
	rc, err := pl.p.Open(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if int64(len(data)) != desc.Size || desc.Digest.Algorithm().FromBytes(data) != desc.Digest {
		return nil, fmt.Errorf("blob %s does not match its digest and size %d: %w", desc.Digest, desc.Size, errdefs.ErrDataLoss)
	}
	pl.docs[desc.Digest] = data
	return data, nil
}

func (pl *savePlan) write(ctx context.Context, w io.Writer) error {
	tw := tar.NewWriter(w)
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: orEmpty(pl.index),
	})
	if err != nil {
		return err
	}
	dm, err := json.Marshal(orEmpty(pl.dm))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{{ocispec.ImageLayoutFile, layout}, {"index.json", index}, {"manifest.json", dm}}
	if len(pl.repos) > 0 {
		repos, err := json.Marshal(pl.repos) // maps marshal with sorted keys
		if err != nil {
			return err
		}
		files = append(files, struct {
			name string
			data []byte
		}{"repositories", repos})
	}
	for _, f := range files {
		if err := writeFile(tw, f.name, f.data); err != nil {
			return err
		}
	}
	if err := pl.writeBlobs(ctx, tw); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	return nil
}

func (pl *savePlan) writeBlobs(ctx context.Context, tw *tar.Writer) error {
	dirs := []string{"blobs/"}
	for _, b := range pl.blobs {
		if d := "blobs/" + b.Digest.Algorithm().String() + "/"; !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs[1:])
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return fmt.Errorf("write %s: %w", d, err)
		}
	}
	for _, b := range pl.blobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if data, ok := pl.docs[b.Digest]; ok {
			if err := writeFile(tw, blobPath(b.Digest), data); err != nil {
				return err
			}
			continue
		}
		if err := pl.copyBlob(ctx, tw, b); err != nil {
			return err
		}
	}
	return nil
}

// copyBlob streams one blob into the archive, verifying size and digest.
func (pl *savePlan) copyBlob(ctx context.Context, tw *tar.Writer, b ocispec.Descriptor) error {
	if b.Size < 0 {
		return fmt.Errorf("blob %s: negative size: %w", b.Digest, errdefs.ErrInvalidArgument)
	}
	rc, err := pl.p.Open(ctx, b)
	if err != nil {
		return fmt.Errorf("open blob %s: %w", b.Digest, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(fileHeader(blobPath(b.Digest), b.Size)); err != nil {
		return fmt.Errorf("write %s: %w", blobPath(b.Digest), err)
	}
	v := b.Digest.Verifier()
	n, err := io.Copy(tw, io.TeeReader(io.LimitReader(rc, b.Size), v))
	if err != nil {
		return fmt.Errorf("copy blob %s: %w", b.Digest, err)
	}
	var extra [1]byte
	if m, _ := rc.Read(extra[:]); n != b.Size || m != 0 || !v.Verified() {
		return fmt.Errorf("blob %s in the store does not match its digest and size %d: %w", b.Digest, b.Size, errdefs.ErrDataLoss)
	}
	return nil
}

// fileHeader is the header of every file Save writes: fixed owner, mode
// and time, so the same images give the same archive.
func fileHeader(name string, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)}
}

func writeFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(fileHeader(name, int64(len(data)))); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
