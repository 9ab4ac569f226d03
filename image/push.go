package image

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image/registry"
)

// Push uploads an image to the registry its reference names: blobs the
// registry has are skipped, blobs pulled from another repository of the
// same registry are mounted from there, the manifest goes last.
func (s *Service) Push(ctx context.Context, refStr string, progress func(Progress)) (_ ocispec.Descriptor, err error) {
	ref, err := ParseReference(refStr)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("push %s: %w", ref.Familiar(), err)
		}
	}()
	img, err := s.Store.Get(ctx, ref.Name())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	target, err := name.ParseReference(ref.String(), name.WithDefaultRegistry("index.docker.io"))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("reference %s: %w", ref, err)
	}
	// The platform's manifest goes, not an index of which only one
	// platform is here (as docker push does for a pulled image).
	root := img.Manifest
	raw, err := s.readBlob(ctx, root)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	opts := registry.PushOptions{MountFrom: mountSources(img, ref)}
	if progress != nil {
		opts.Progress = func(p registry.Progress) {
			progress(Progress{ID: shortID(p.Digest), Status: p.Status, Current: p.Done, Total: p.Size})
		}
	}
	provider := func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
		return blobs{s.content}.Open(ctx, desc)
	}
	if err := s.registry.Push(ctx, target, root, raw, provider, opts); err != nil {
		return ocispec.Descriptor{}, err
	}
	// Record where the image is now, as docker does (RepoDigests).
	if err := s.Store.Tag(ctx, img.ID, ref.Repository+"@"+root.Digest.String()); err != nil {
		return ocispec.Descriptor{}, err
	}
	return root, nil
}

// mountSources lists, for each layer, the other repositories of the same
// registry that the image came from (its repo@digest names), from which
// the registry can mount the blobs instead of receiving them again.
func mountSources(img Named, ref Reference) map[digest.Digest][]string {
	var repos []string
	for _, n := range img.Names {
		r, err := ParseReference(n)
		if err != nil || r.Repository == ref.Repository || r.Domain() != ref.Domain() {
			continue
		}
		repos = append(repos, r.Repository)
	}
	if len(repos) == 0 {
		return nil
	}
	out := map[digest.Digest][]string{}
	for _, l := range img.Layers {
		out[l.Digest] = repos
	}
	out[img.Config.Digest] = repos
	return out
}
