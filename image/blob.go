package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/content"
)

// maxSmallBlob bounds manifests, indexes and configs read into memory.
const maxSmallBlob = 8 << 20

// putBlob stores a small blob (manifest, index, config) already in memory;
// the content store verifies it against desc.
func (s *Service) putBlob(ctx context.Context, desc ocispec.Descriptor, data []byte) error {
	w, err := s.content.Writer(ctx, "blob-"+desc.Digest.Encoded(), content.Descriptor{Digest: desc.Digest, Size: desc.Size})
	if errdefs.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store blob %s: %w", desc.Digest, err)
	}
	if w.Offset() > int64(len(data)) {
		w.Abort()
		return fmt.Errorf("store blob %s: earlier partial write is longer than the blob: %w", desc.Digest, errdefs.ErrDataLoss)
	}
	if _, err := w.Write(data[w.Offset():]); err != nil {
		w.Abort()
		return fmt.Errorf("store blob %s: %w", desc.Digest, err)
	}
	_, err = w.Commit(ctx)
	return ignoreExists(err)
}

// readBlob reads a small blob from the content store.
func (s *Service) readBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxSmallBlob {
		return nil, fmt.Errorf("blob %s of %d bytes is too large for a manifest or config: %w", desc.Digest, desc.Size, errdefs.ErrInvalidArgument)
	}
	path, err := s.content.Path(desc.Digest)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	return data, nil
}

// openLayer returns a layer blob's compressed bytes: from the content
// store when it has them, else from fetch, written to the store as they
// are read (after whatever an interrupted earlier download left).
// finish(nil) commits the blob, verifying its digest; finish(err) keeps
// a partial download for the next try, unless err says the disk is full.
func (s *Service) openLayer(ctx context.Context, desc ocispec.Descriptor, fetch fetchFunc, progress func(Progress)) (io.Reader, func(error) error, error) {
	id := shortID(desc.Digest)
	w, err := s.content.Writer(ctx, "layer-"+desc.Digest.Encoded(), content.Descriptor{Digest: desc.Digest, Size: desc.Size})
	if errdefs.IsAlreadyExists(err) {
		path, err := s.content.Path(desc.Digest)
		if err != nil {
			return nil, nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open blob %s: %w", desc.Digest, err)
		}
		report(progress, Progress{ID: id, Status: "Extracting", Total: desc.Size})
		return f, func(error) error { return f.Close() }, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store blob %s: %w", desc.Digest, err)
	}
	offset := w.Offset()
	net, err := fetch(ctx, desc, offset)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	var parts []io.Reader
	if offset > 0 {
		parts = append(parts, w.Partial())
	}
	parts = append(parts, io.TeeReader(net, w))
	r := &progressReader{r: io.MultiReader(parts...), fn: progress, p: Progress{ID: id, Status: "Downloading", Total: desc.Size}}
	finish := func(err error) error {
		net.Close()
		if errdefs.IsResourceExhausted(err) {
			return w.Abort()
		}
		if err != nil {
			return w.Close()
		}
		r.p.Status, r.p.Current = "Download complete", desc.Size
		report(progress, r.p)
		_, err = w.Commit(ctx)
		return ignoreExists(err)
	}
	return r, finish, nil
}

// ensureBlob fetches a blob into the content store unless it is there.
func (s *Service) ensureBlob(ctx context.Context, desc ocispec.Descriptor, fetch fetchFunc) error {
	if _, err := s.content.Info(ctx, desc.Digest); err == nil {
		return nil
	}
	r, finish, err := s.openLayer(ctx, desc, fetch, nil)
	if err != nil {
		return err
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	_, err = io.CopyBuffer(io.Discard, r, *buf)
	if ferr := finish(err); err == nil {
		err = ferr
	}
	return err
}

// progressReader reports bytes read, at most every 100 ms.
type progressReader struct {
	r    io.Reader
	fn   func(Progress)
	p    Progress
	last time.Time
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.Current += int64(n)
	if pr.fn != nil && time.Since(pr.last) > 100*time.Millisecond {
		pr.last = time.Now()
		pr.fn(pr.p)
	}
	return n, err
}

// copyBuffers are large buffers for copying blobs.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// randomKey names an ingest whose digest is not known yet.
func randomKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
