package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Info describes a committed blob.
type Info struct {
	Digest  digest.Digest
	Size    int64
	ModTime time.Time
}

// Descriptor is what a writer expects to receive. An empty Digest or a Size
// of -1 means unknown.
type Descriptor struct {
	Digest digest.Digest
	Size   int64
}

// Store is a content store rooted at one directory. It is safe for
// concurrent use, and several Store values or processes may share a root.
type Store struct {
	root string
	// crashAt, set only by tests, makes Commit stop dead at the named step,
	// as a killed process would.
	crashAt string
}

// Open opens the store at root, creating its directories, and removes what
// an interrupted writer can leave behind, keeping resumable ingests.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("open content store: empty root: %w", errdefs.ErrInvalidArgument)
	}
	s := &Store{root: root}
	if err := os.MkdirAll(s.blobDir(), 0o755); err != nil {
		return nil, fmt.Errorf("open content store %s: %w", root, err)
	}
	if err := os.MkdirAll(s.ingestRoot(), 0o700); err != nil {
		return nil, fmt.Errorf("open content store %s: %w", root, err)
	}
	if err := s.cleanIngests(); err != nil {
		return nil, fmt.Errorf("open content store %s: %w", root, err)
	}
	return s, nil
}

// Root returns the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string    { return filepath.Join(s.root, "blobs", "sha256") }
func (s *Store) ingestRoot() string { return filepath.Join(s.root, "ingest") }

// blobPath validates dgst and returns where its blob lives.
func (s *Store) blobPath(dgst digest.Digest) (string, error) {
	if err := validDigest(dgst); err != nil {
		return "", err
	}
	return filepath.Join(s.blobDir(), dgst.Encoded()), nil
}

// validDigest accepts well-formed sha256 digests only.
func validDigest(dgst digest.Digest) error {
	if dgst == "" {
		return fmt.Errorf("empty digest: %w", errdefs.ErrInvalidArgument)
	}
	if err := dgst.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return fmt.Errorf("digest %q: %w: only sha256 is supported", dgst, errdefs.ErrNotImplemented)
		}
		return fmt.Errorf("digest %q: %v: %w", dgst, err, errdefs.ErrInvalidArgument)
	}
	if dgst.Algorithm() != digest.SHA256 {
		return fmt.Errorf("digest %s: %w: only sha256 is supported", dgst, errdefs.ErrNotImplemented)
	}
	return nil
}

// Info returns the size and modification time of a committed blob.
func (s *Store) Info(ctx context.Context, dgst digest.Digest) (Info, error) {
	p, err := s.blobPath(dgst)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return Info{}, notFound(dgst, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("blob %s: %s is not a regular file: %w", dgst, p, errdefs.ErrDataLoss)
	}
	return Info{Digest: dgst, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Path returns the file of a committed blob, for callers that must hand a
// path out (hardlinks, bind mounts). The file must not be modified.
func (s *Store) Path(dgst digest.Digest) (string, error) {
	p, err := s.blobPath(dgst)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(p); err != nil {
		return "", notFound(dgst, err)
	}
	return p, nil
}

// Delete removes a committed blob. Readers that opened it keep reading it.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	p, err := s.blobPath(dgst)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return notFound(dgst, err)
	}
	return nil
}

// Walk calls fn for every committed blob, in digest order, and stops at the
// first error fn returns. Blobs removed while walking are skipped; files in
// blobs/sha256 that are not named by a sha256 digest are ignored.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return fmt.Errorf("walk %s: %w", s.blobDir(), err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		dgst := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if dgst.Validate() != nil || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("walk %s: %w", s.blobDir(), err)
		}
		if err := fn(Info{Digest: dgst, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// notFound classifies an error from looking up the blob dgst.
func notFound(dgst digest.Digest, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	}
	return fmt.Errorf("blob %s: %w", dgst, err)
}

// diskFull adds errdefs.ErrResourceExhausted to an error caused by a full
// disk or quota, keeping the errno in the chain.
func diskFull(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", errdefs.ErrResourceExhausted, err)
	}
	return err
}
