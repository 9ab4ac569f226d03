package content

import (
	"context"
	"fmt"
	"hash"
	"io"
	"os"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Reader reads a committed blob: Read, ReadAt, Seek and Size come from the
// embedded section reader. Close it when done.
type Reader struct {
	*io.SectionReader
	f *os.File
}

// Close closes the blob's file.
func (r *Reader) Close() error { return r.f.Close() }

// ReaderAt opens a committed blob for reading. A blob deleted while open
// stays readable until Close.
func (s *Store) ReaderAt(ctx context.Context, dgst digest.Digest) (*Reader, error) {
	p, err := s.blobPath(dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, notFound(dgst, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", dgst, err)
	}
	return &Reader{SectionReader: io.NewSectionReader(f, 0, fi.Size()), f: f}, nil
}

// Verify re-hashes a committed blob. Bytes that do not match the digest
// return an error wrapping errdefs.ErrDataLoss that names the digest found.
func (s *Store) Verify(ctx context.Context, dgst digest.Digest) error {
	r, err := s.ReaderAt(ctx, dgst)
	if err != nil {
		return err
	}
	defer r.Close()
	d := digest.SHA256.Digester()
	n, err := hashCtx(ctx, d.Hash(), r)
	if err != nil {
		return fmt.Errorf("verify blob %s: %w", dgst, err)
	}
	if got := d.Digest(); got != dgst {
		return fmt.Errorf("verify blob %s: content has digest %s (%d bytes): %w", dgst, got, n, errdefs.ErrDataLoss)
	}
	return nil
}

// hashCtx feeds r to h until EOF, checking ctx between chunks: hashing a
// large blob takes long enough to need cancelling.
func hashCtx(ctx context.Context, h hash.Hash, r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := io.ReadFull(r, buf)
		h.Write(buf[:m]) // a hash never fails
		n += int64(m)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
