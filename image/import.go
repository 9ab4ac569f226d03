package image

import (
	"context"
	"fmt"
	"io"

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
	var names []string
	if opts.Ref != "" {
		ref, err := ParseReference(opts.Ref)
		if err != nil {
			return Named{}, err
		}
		names = append(names, ref.Name())
	}
	s.gcLock.RLock()
	defer s.gcLock.RUnlock()
	lease, err := s.Store.NewLease(ctx, leaseTTL)
	if err != nil {
		return Named{}, err
	}
	defer s.Store.ReleaseLease(context.WithoutCancel(ctx), lease)
	desc, err := exchange.Import(ctx, r, blobs{s.content}, exchange.ImportConfig{Changes: opts.Changes, Message: opts.Message})
	if err != nil {
		return Named{}, fmt.Errorf("import: %w", err)
	}
	img, err := s.adopt(ctx, lease, desc, nil)
	if err != nil {
		return Named{}, fmt.Errorf("import: %w", err)
	}
	if err := s.Store.Put(ctx, img, names...); err != nil {
		return Named{}, err
	}
	return s.Store.Get(ctx, img.ID.String())
}
