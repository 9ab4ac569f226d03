package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image/registry"
)

// PullOptions tune a pull.
type PullOptions struct {
	Platform    ocispec.Platform // zero: DefaultPlatform
	Progress    func(Progress)   // nil: no progress
	Concurrency int              // layers in flight; zero: 4
}

// Progress is one step of a pull or push, as `docker pull` shows it: ID
// is a layer's short digest (or the reference), Status a phrase such as
// "Downloading" or "Pull complete", Current/Total bytes where they apply.
type Progress struct {
	ID      string
	Status  string
	Current int64
	Total   int64
}

// leaseTTL bounds how long what a pull killed midway left stays protected.
const leaseTTL = time.Hour

// Pull fetches an image from its registry and records it under ref.
// Layers download concurrently and each is unpacked as its bytes arrive
// into a staging snapshot of its own; the snapshots are committed in
// order once their parents are. Every digest is verified: manifests and
// blobs against their descriptors, unpacked layers against the config's
// diff IDs.
func (s *Service) Pull(ctx context.Context, refStr string, opts PullOptions) (_ Named, err error) {
	ref, err := ParseReference(refStr)
	if err != nil {
		return Named{}, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("pull %s: %w", ref.Familiar(), err)
		}
	}()
	s.gcLock.RLock()
	defer s.gcLock.RUnlock()
	if opts.Platform.OS == "" {
		opts.Platform = DefaultPlatform()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	lease, err := s.Store.NewLease(ctx, leaseTTL)
	if err != nil {
		return Named{}, err
	}
	defer func() {
		if err != nil {
			s.Store.ReleaseLease(context.WithoutCancel(ctx), lease)
		}
	}()

	named, target, raw, err := s.registry.Resolve(ctx, ref.String())
	if err != nil {
		return Named{}, err
	}
	repo := named.Context()
	if err := s.putBlob(ctx, target, raw); err != nil {
		return Named{}, err
	}
	mdesc, mraw := target, raw
	if isIndex(target.MediaType) {
		if mdesc, err = registry.SelectPlatform(raw, opts.Platform); err != nil {
			return Named{}, err
		}
		if mraw, err = s.manifestBytes(ctx, repo, mdesc); err != nil {
			return Named{}, err
		}
	} else if !isManifest(target.MediaType) {
		return Named{}, fmt.Errorf("%s is a %q, not an image: %w", target.Digest, target.MediaType, errdefs.ErrNotImplemented)
	}
	img, err := s.fetchImage(ctx, repo, lease, target, mdesc, mraw, opts)
	if err != nil {
		return Named{}, err
	}
	names := []string{ref.Repository + "@" + target.Digest.String()}
	if ref.Tag != "" && ref.Digest == "" {
		names = append(names, ref.Name())
	}
	if err := s.Store.PutReleasing(ctx, lease, img, names...); err != nil {
		return Named{}, err
	}
	report(opts.Progress, Progress{ID: ref.Familiar(), Status: "Digest: " + target.Digest.String()})
	return s.Store.Get(ctx, img.ID.String())
}

// manifestBytes returns a manifest from the store or the registry, and
// keeps it in the store.
func (s *Service) manifestBytes(ctx context.Context, repo name.Repository, desc ocispec.Descriptor) ([]byte, error) {
	if raw, err := s.readBlob(ctx, desc); err == nil {
		return raw, nil
	}
	raw, err := s.registry.FetchManifest(ctx, repo, desc)
	if err != nil {
		return nil, err
	}
	return raw, s.putBlob(ctx, desc, raw)
}

// fetchImage fetches a manifest's config and layers, unpacks the layers
// into committed snapshots, and returns the image record.
func (s *Service) fetchImage(ctx context.Context, repo name.Repository, lease *Lease, target, mdesc ocispec.Descriptor, mraw []byte, opts PullOptions) (Image, error) {
	m, err := parseManifest(mraw, mdesc)
	if err != nil {
		return Image{}, err
	}
	craw, err := s.readBlob(ctx, m.Config)
	if err != nil {
		if craw, err = s.registry.FetchBlob(ctx, repo, m.Config); err != nil {
			return Image{}, fmt.Errorf("config %s: %w", m.Config.Digest, err)
		}
		if err := s.putBlob(ctx, m.Config, craw); err != nil {
			return Image{}, err
		}
	}
	img, err := newImage(target, mdesc, m, craw)
	if err != nil {
		return Image{}, err
	}
	src := func(ctx context.Context, l ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
		return s.registry.BlobReader(ctx, repo, l, offset)
	}
	if img.Size, err = s.unpack(ctx, lease, img, src, opts.Progress, opts.Concurrency); err != nil {
		return Image{}, err
	}
	return img, nil
}

// newImage makes the record of an image from its manifest and config.
func newImage(target, mdesc ocispec.Descriptor, m ocispec.Manifest, craw []byte) (Image, error) {
	cfg, err := parseConfig(craw, m.Config.Digest, len(m.Layers))
	if err != nil {
		return Image{}, err
	}
	img := Image{
		ID: m.Config.Digest, Target: target, Manifest: mdesc, Config: m.Config, Layers: m.Layers,
		DiffIDs: cfg.RootFS.DiffIDs, Platform: cfg.Platform, Added: time.Now().UTC(),
	}
	if cfg.Created != nil {
		img.Created = *cfg.Created
	}
	return img, nil
}

// report sends progress when someone listens.
func report(fn func(Progress), p Progress) {
	if fn != nil {
		fn(p)
	}
}

// shortID is a digest as docker pull names layers: 12 hex digits.
func shortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

// ignoreExists treats "already there" as success.
func ignoreExists(err error) error {
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		return nil
	}
	return err
}
