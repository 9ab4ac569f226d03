package exchange

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// memStore is an in-memory content store for tests: a Provider and an
// Ingester that verifies what it is given, as the real store must.
type memStore struct {
	mu    sync.Mutex
	blobs map[digest.Digest][]byte
}

var (
	_ Provider = (*memStore)(nil)
	_ Ingester = (*memStore)(nil)
)

func newMemStore() *memStore { return &memStore{blobs: map[digest.Digest][]byte{}} }

func (m *memStore) Open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, errdefs.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (m *memStore) Ingest(_ context.Context, r io.Reader, exp ocispec.Descriptor) (ocispec.Descriptor, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	alg := digest.SHA256
	if exp.Digest != "" {
		alg = exp.Digest.Algorithm()
	}
	got := ocispec.Descriptor{MediaType: exp.MediaType, Digest: alg.FromBytes(data), Size: int64(len(data))}
	if exp.Digest != "" && got.Digest != exp.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("content has digest %s, want %s: %w", got.Digest, exp.Digest, errdefs.ErrFailedPrecondition)
	}
	if exp.Size != 0 && got.Size != exp.Size {
		return ocispec.Descriptor{}, fmt.Errorf("content has %d bytes, want %d: %w", got.Size, exp.Size, errdefs.ErrFailedPrecondition)
	}
	m.mu.Lock()
	m.blobs[got.Digest] = data
	m.mu.Unlock()
	return got, nil
}

func (m *memStore) put(data []byte) digest.Digest {
	d := digest.FromBytes(data)
	m.mu.Lock()
	m.blobs[d] = data
	m.mu.Unlock()
	return d
}

func (m *memStore) get(d digest.Digest) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.blobs[d]
	return data, ok
}

func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.blobs)
}
