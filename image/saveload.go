package image

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image/exchange"
	"github.com/berth-dev/berth/image/registry"
)

// blobs is the content store as the exchange formats use it.
type blobs struct{ cs *content.Store }

func (b blobs) Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	path, err := b.cs.Path(desc.Digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", desc.Digest, err)
	}
	return f, nil
}

func (b blobs) Ingest(ctx context.Context, r io.Reader, expected ocispec.Descriptor) (ocispec.Descriptor, error) {
	want := content.Descriptor{Digest: expected.Digest, Size: -1}
	key := "ingest-" + randomKey()
	if expected.Digest != "" {
		key = "load-" + expected.Digest.Encoded()
		if expected.Size > 0 {
			want.Size = expected.Size
		}
	}
	w, err := b.cs.Writer(ctx, key, want)
	if errdefs.IsAlreadyExists(err) {
		info, err := b.cs.Info(ctx, expected.Digest)
		return ocispec.Descriptor{MediaType: expected.MediaType, Digest: info.Digest, Size: info.Size}, err
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if w.Offset() > 0 { // an earlier load of this blob stopped midway: start over
		w.Abort()
		if w, err = b.cs.Writer(ctx, key, want); err != nil {
			return ocispec.Descriptor{}, ignoreExists(err)
		}
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(w, r, *buf); err != nil {
		w.Abort()
		return ocispec.Descriptor{}, err
	}
	d, err := w.Commit(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: expected.MediaType, Digest: d.Digest, Size: d.Size}, nil
}

// Save writes images (references or IDs) to w as one tar that is both an
// OCI image layout and a docker-archive, as `docker save` does since 25.
func (s *Service) Save(ctx context.Context, w io.Writer, refs []string) error {
	var images []exchange.Image
	for _, ref := range refs {
		img, err := s.Store.Get(ctx, ref)
		if err != nil {
			return err
		}
		names := img.Names
		if r, err := ParseReference(ref); err == nil && contains(img.Names, r.Name()) {
			names = []string{r.Name()} // saved by name: only that name, as docker
		}
		var tags []string
		for _, n := range names {
			if r, err := ParseReference(n); err == nil && r.Digest == "" {
				tags = append(tags, n)
			}
		}
		images = append(images, exchange.Image{Names: tags, Manifest: img.Manifest})
	}
	return exchange.Save(ctx, w, images, blobs{s.content})
}

// Load reads images from a docker-archive or OCI layout tar, unpacks
// their layers and records them under the names the archive gives.
func (s *Service) Load(ctx context.Context, r io.Reader, progress func(Progress)) (_ []Named, err error) {
	s.gcLock.RLock()
	defer s.gcLock.RUnlock()
	lease, err := s.Store.NewLease(ctx, leaseTTL)
	if err != nil {
		return nil, err
	}
	defer s.Store.ReleaseLease(context.WithoutCancel(ctx), lease)
	loaded, err := exchange.Load(ctx, r, blobs{s.content})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var out []Named
	for _, l := range loaded {
		img, err := s.adopt(ctx, lease, l.Manifest, progress)
		if err != nil {
			return out, fmt.Errorf("load %s: %w", l.Manifest.Digest, err)
		}
		if err := s.Store.Put(ctx, img, l.Names...); err != nil {
			return out, err
		}
		n, err := s.Store.Get(ctx, img.ID.String())
		if err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

// adopt makes an image record of a manifest (or index) whose blobs are
// all in the content store, unpacking its layers.
func (s *Service) adopt(ctx context.Context, lease *Lease, target ocispec.Descriptor, progress func(Progress)) (Image, error) {
	raw, err := s.readBlob(ctx, target)
	if err != nil {
		return Image{}, err
	}
	mdesc, mraw := target, raw
	if isIndex(target.MediaType) {
		if mdesc, err = registry.SelectPlatform(raw, DefaultPlatform()); err != nil {
			return Image{}, err
		}
		if mraw, err = s.readBlob(ctx, mdesc); err != nil {
			return Image{}, err
		}
	}
	m, err := parseManifest(mraw, mdesc)
	if err != nil {
		return Image{}, err
	}
	craw, err := s.readBlob(ctx, m.Config)
	if err != nil {
		return Image{}, err
	}
	img, err := newImage(target, mdesc, m, craw)
	if err != nil {
		return Image{}, err
	}
	missing := func(ctx context.Context, l ocispec.Descriptor, _ int64) (io.ReadCloser, error) {
		return nil, fmt.Errorf("blob %s is not in the store: %w", l.Digest, errdefs.ErrNotFound)
	}
	if img.Size, err = s.unpack(ctx, lease, img, missing, progress, 4); err != nil {
		return Image{}, err
	}
	return img, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
