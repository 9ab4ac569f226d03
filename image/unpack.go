package image

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
)

// readCloser is a layer's compressed bytes from wherever they come.
type readCloser = io.ReadCloser

// fetchFunc opens a layer blob's bytes from offset, from a registry or
// any other source that is not yet in the content store.
type fetchFunc func(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error)

// Snapshot labels.
const (
	labelStaging = "berth.image.staging" // a layer being unpacked; GC removes it unless a lease holds it
	labelSize    = "berth.image.size"    // a committed layer's uncompressed tar size
)

// unpack makes sure every layer of img is a committed snapshot named by
// its chain ID, fetching what the content store lacks with fetch, and
// returns the image's uncompressed size. Layers are unpacked
// concurrently into staging snapshots when the snapshotter can commit a
// layer onto a parent after the fact (overlay), else one after another.
func (s *Service) unpack(ctx context.Context, lease *Lease, img Image, fetch fetchFunc, progress func(Progress), concurrency int) (int64, error) {
	chain := img.ChainIDs()
	have := 0 // the longest committed prefix of the chain
	for i := len(chain) - 1; i >= 0; i-- {
		if _, err := s.snap.Stat(ctx, chain[i].String()); err == nil {
			have = i + 1
			break
		}
	}
	keys := make([]string, len(chain))
	var digests []digest.Digest
	for _, d := range []ocispec.Descriptor{img.Target, img.Manifest, img.Config} {
		digests = append(digests, d.Digest)
	}
	snaps := make([]string, 0, 2*len(chain))
	for i, c := range chain {
		digests = append(digests, img.Layers[i].Digest)
		snaps = append(snaps, c.String())
		if i >= have {
			keys[i] = "staging-" + lease.ID + "-" + strconv.Itoa(i)
			snaps = append(snaps, keys[i])
		}
	}
	if err := s.Store.AddToLease(ctx, lease, digests, snaps); err != nil {
		return 0, err
	}
	for i := range have {
		// The layer is unpacked; its blob may have gone (fsck --repair of
		// a corrupt blob): fetch it again, for push and save.
		if err := s.ensureBlob(ctx, img.Layers[i], fetch); err != nil {
			return 0, fmt.Errorf("layer %s: %w", img.Layers[i].Digest, err)
		}
		report(progress, Progress{ID: shortID(img.Layers[i].Digest), Status: "Already exists"})
	}
	for i := have; i < len(chain); i++ {
		report(progress, Progress{ID: shortID(img.Layers[i].Digest), Status: "Pulling fs layer"})
	}

	rebase := s.snap.Features().Rebase
	if !rebase {
		concurrency = 1
	}
	type result struct {
		size int64
		err  error
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]chan result, len(chain))
	for i := have; i < len(chain); i++ {
		results[i] = make(chan result, 1)
	}
	// The launcher starts layers in order, at most concurrency at once;
	// without rebase a layer starts only once its parent is committed.
	sem := make(chan struct{}, concurrency)
	committed := make([]chan struct{}, len(chain))
	for i := range committed {
		committed[i] = make(chan struct{})
	}
	go func() {
		for i := have; i < len(chain); i++ {
			parent := ""
			if !rebase && i > 0 {
				select {
				case <-committed[i-1]:
				case <-ctx.Done():
				}
				parent = chain[i-1].String()
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] <- result{err: context.Cause(ctx)}
				continue
			}
			go func(i int, parent string) {
				defer func() { <-sem }()
				size, err := s.unpackLayer(ctx, img, i, keys[i], parent, fetch, progress)
				results[i] <- result{size, err}
			}(i, parent)
		}
	}()

	var total int64
	var firstErr error
	for i := range chain {
		if i < have {
			total += s.layerSize(ctx, chain[i].String())
			close(committed[i])
			continue
		}
		r := <-results[i]
		if r.err == nil && firstErr == nil {
			r.err = s.commitLayer(ctx, chain, i, keys[i], r.size)
		}
		if r.err != nil && firstErr == nil {
			firstErr = r.err
			cancel(r.err)
		}
		total += r.size
		if firstErr == nil {
			close(committed[i])
			report(progress, Progress{ID: shortID(img.Layers[i].Digest), Status: "Pull complete"})
		}
	}
	if firstErr != nil {
		undo := context.WithoutCancel(ctx)
		for _, k := range keys {
			if k != "" {
				s.snap.Remove(undo, k) // not found once committed
			}
		}
		return 0, firstErr
	}
	return total, nil
}

// commitLayer commits layer i's staging snapshot as its chain ID on top
// of its parent. A concurrent pull may have committed the same chain
// first: then the staging copy goes.
func (s *Service) commitLayer(ctx context.Context, chain []digest.Digest, i int, key string, size int64) error {
	var opts []snapshot.Opt
	if i > 0 {
		opts = append(opts, snapshot.WithParent(chain[i-1].String()))
	}
	opts = append(opts, snapshot.WithLabels(map[string]string{labelSize: strconv.FormatInt(size, 10)}))
	err := s.snap.Commit(ctx, chain[i].String(), key, opts...)
	if errdefs.IsAlreadyExists(err) {
		return s.snap.Remove(ctx, key)
	}
	if err != nil {
		return fmt.Errorf("commit layer %d snapshot %s: %w", i, chain[i], err)
	}
	return nil
}

// layerSize returns a committed layer's recorded size, 0 if unknown.
func (s *Service) layerSize(ctx context.Context, key string) int64 {
	info, err := s.snap.Stat(ctx, key)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(info.Labels[labelSize], 10, 64)
	return n
}

// unpackLayer streams layer i into the staging snapshot key (on parent,
// when the snapshotter cannot rebase), verifying the compressed digest
// and the diff ID, and returns the uncompressed size.
func (s *Service) unpackLayer(ctx context.Context, img Image, i int, key, parent string, fetch fetchFunc, progress func(Progress)) (_ int64, err error) {
	desc := img.Layers[i]
	defer func() {
		if err != nil {
			err = fmt.Errorf("layer %s: %w", desc.Digest, err)
		}
	}()
	mounts, err := s.snap.Prepare(ctx, key, parent, snapshot.WithLabels(map[string]string{labelStaging: "1"}))
	if err != nil {
		return 0, fmt.Errorf("prepare snapshot %s: %w", key, err)
	}
	dir, err := bindSource(mounts)
	if err != nil {
		return 0, err
	}
	src, finish, err := s.openLayer(ctx, desc, fetch, progress)
	if err != nil {
		return 0, err
	}
	defer func() {
		if ferr := finish(err); err == nil {
			err = ferr
		}
	}()
	tar, _, err := archive.Decompress(src)
	if err != nil {
		return 0, err
	}
	defer tar.Close()
	h := digest.Canonical.Digester()
	tee := io.TeeReader(tar, h.Hash())
	mode := archive.Delete
	if s.snap.Features().OverlayWhiteouts {
		mode = archive.Overlay
	}
	stats, err := archive.Apply(ctx, dir, tee, archive.ApplyOptions{Whiteouts: mode})
	if err != nil {
		return 0, fmt.Errorf("unpack: %w", err)
	}
	// The digests cover every byte: the tar's end padding, the rest of
	// the compressed stream.
	rest, err := io.Copy(io.Discard, tee)
	if err != nil {
		return 0, fmt.Errorf("read past the end of the tar: %w", err)
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return 0, fmt.Errorf("read past the end of the compressed stream: %w", err)
	}
	if got, want := h.Digest(), img.DiffIDs[i]; got != want {
		return 0, fmt.Errorf("uncompressed content has digest %s, the config says %s: %w", got, want, errdefs.ErrDataLoss)
	}
	return stats.Size + rest, nil
}

// bindSource returns the directory of a snapshot whose mounts are a
// single bind mount: a staging layer with no parent, or a native copy.
func bindSource(mounts []mount.Mount) (string, error) {
	if len(mounts) != 1 || mounts[0].Type != "bind" && mounts[0].Type != "rbind" {
		return "", fmt.Errorf("staging snapshot is not a single bind mount (%d mounts): %w", len(mounts), errdefs.ErrNotImplemented)
	}
	return mounts[0].Source, nil
}
