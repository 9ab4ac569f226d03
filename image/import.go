package image

import (
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image/exchange"
)

// ImportOptions tune Import.
type ImportOptions struct {
	Ref     string   // name for the image; empty: none
	Changes []string // `docker import --change` lines: CMD, ENV, WORKDIR…
	Message string
}

// Import makes a one-layer image of a rootfs tarball (plain or
// compressed), as `docker import` does, unpacks it and records it.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (Named, error) {
	return s.addImage(ctx, "import", opts.Ref, func(*Lease) (ocispec.Descriptor, error) {
		return exchange.Import(ctx, r, blobs{s.content}, exchange.ImportConfig{Changes: opts.Changes, Message: opts.Message})
	})
}

// addImage records the image whose blobs build stores (returning its
// manifest), unpacks what build did not and names it ref (none when
// empty), with the collector kept out and what build makes under the
// lease it is given meanwhile. op names the operation in errors.
func (s *Service) addImage(ctx context.Context, op, ref string, build func(*Lease) (ocispec.Descriptor, error)) (Named, error) {
	var names []string
	if ref != "" {
		r, err := ParseReference(ref)
		if err != nil {
			return Named{}, err
		}
		names = append(names, r.Name())
	}
	s.gcLock.RLock()
	defer s.gcLock.RUnlock()
	lease, err := s.Store.NewLease(ctx, leaseTTL)
	if err != nil {
		return Named{}, err
	}
	defer s.Store.ReleaseLease(context.WithoutCancel(ctx), lease)
	desc, err := build(lease)
	if err != nil {
		return Named{}, fmt.Errorf("%s: %w", op, err)
	}
	img, err := s.adopt(ctx, lease, desc, nil)
	if err != nil {
		return Named{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.Store.Put(ctx, img, names...); err != nil {
		return Named{}, err
	}
	return s.Store.Get(ctx, img.ID.String())
}
