package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Writer writes one blob through an ingest. It is not safe for concurrent
// use. Whatever Commit returns, the writer is closed afterwards.
type Writer struct {
	s        *Store
	key      string
	dir      string
	expected Descriptor
	keyLock  *lockFile
	dgstLock *lockFile // nil when the digest is not known in advance
	data     *os.File
	hash     digest.Digester
	offset   int64 // bytes in data, all of them hashed
	partial  int64 // bytes found in data when the writer opened
	failed   error // the write error that makes Commit refuse
	closed   bool
}

// Writer opens the ingest key for a blob described by expected (Digest ""
// and Size -1 when unknown). If the blob is present, the error wraps
// errdefs.ErrAlreadyExists. If another writer holds the key or the expected
// digest, Writer waits until ctx is done or the holder finishes: after a
// commit it returns ErrAlreadyExists, after a close or abort it takes over.
func (s *Store) Writer(ctx context.Context, key string, expected Descriptor) (*Writer, error) {
	return s.writer(ctx, key, expected, true)
}

// TryWriter is Writer without waiting: a busy key or digest returns an error
// wrapping errdefs.ErrUnavailable.
func (s *Store) TryWriter(ctx context.Context, key string, expected Descriptor) (*Writer, error) {
	return s.writer(ctx, key, expected, false)
}

func (s *Store) writer(ctx context.Context, key string, expected Descriptor, wait bool) (_ *Writer, err error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if expected.Size < -1 {
		return nil, fmt.Errorf("ingest %q: size %d: %w", key, expected.Size, errdefs.ErrInvalidArgument)
	}
	w := &Writer{s: s, key: key, dir: s.ingestDir(key), expected: expected}
	if expected.Digest != "" {
		if err := validDigest(expected.Digest); err != nil {
			return nil, fmt.Errorf("ingest %q: %w", key, err)
		}
		if err := s.absent(ctx, expected.Digest); err != nil {
			return nil, err
		}
		if w.dgstLock, err = acquire(ctx, s.digestLock(expected.Digest), wait); err != nil {
			return nil, fmt.Errorf("write %s: %w", w.name(), err)
		}
		defer func() {
			if err != nil {
				w.dgstLock.release(true)
			}
		}()
		// The writer we waited for may have committed it.
		if err := s.absent(ctx, expected.Digest); err != nil {
			return nil, err
		}
	}
	if w.keyLock, err = s.lockKey(ctx, w.dir, wait); err != nil {
		return nil, fmt.Errorf("write %s: %w", w.name(), err)
	}
	if err := w.open(ctx); err != nil {
		w.keyLock.release(false)
		return nil, fmt.Errorf("write %s: %w", w.name(), err)
	}
	return w, nil
}

func (s *Store) absent(ctx context.Context, dgst digest.Digest) error {
	_, err := s.Info(ctx, dgst)
	if err == nil {
		return fmt.Errorf("blob %s: %w", dgst, errdefs.ErrAlreadyExists)
	}
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	return err
}

// open resumes the data an earlier writer of this key left, re-hashing it,
// or starts afresh when there is none or it cannot be this blob's.
func (w *Writer) open(ctx context.Context) error {
	m, err := readMeta(w.dir)
	if err != nil || m.Key != w.key || m.Digest != w.expected.Digest || m.Size != w.expected.Size {
		return w.reset()
	}
	path := filepath.Join(w.dir, dataFile)
	// A crash between Commit's chmod and rename leaves the data read-only.
	if err := os.Chmod(path, 0o600); err != nil {
		return w.reset()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return w.reset()
	}
	w.data, w.hash = f, digest.SHA256.Digester()
	n, err := hashCtx(ctx, w.hash.Hash(), f)
	if err != nil {
		f.Close()
		return fmt.Errorf("rehash partial data: %w", err)
	}
	if w.expected.Size >= 0 && n > w.expected.Size {
		f.Close()
		return w.reset()
	}
	w.offset, w.partial = n, n
	return nil
}

// reset starts the ingest from nothing. On failure (a full disk) it
// removes what it made, which holds nothing worth resuming.
func (w *Writer) reset() (err error) {
	defer func() {
		if err != nil {
			os.RemoveAll(w.dir)
		}
	}()
	for _, name := range []string{dataFile, metaFile} {
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	m := ingestMeta{Key: w.key, Digest: w.expected.Digest, Size: w.expected.Size, StartedAt: time.Now().UTC()}
	if err := writeMeta(w.dir, m); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(w.dir, dataFile), os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return diskFull(err)
	}
	w.data, w.hash, w.offset, w.partial = f, digest.SHA256.Digester(), 0, 0
	return nil
}

// Offset is the number of bytes written so far, including those resumed.
func (w *Writer) Offset() int64 { return w.offset }

// Partial reads the bytes an earlier writer left (Offset when the writer
// opened, before any Write), for a consumer that must see the whole blob.
// It is valid until the writer is closed.
func (w *Writer) Partial() io.Reader { return io.NewSectionReader(w.data, 0, w.partial) }

// Write appends p. Writing past the expected size fails at once and writes
// nothing. After an I/O error (a full disk) the writer only refuses: what
// it wrote stays consistent and a later writer of the key resumes it.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %s: writer closed: %w", w.name(), errdefs.ErrFailedPrecondition)
	}
	if w.failed != nil {
		return 0, w.failed
	}
	if w.expected.Size >= 0 && int64(len(p)) > w.expected.Size-w.offset {
		return 0, fmt.Errorf("write %s: %d bytes at offset %d exceed the expected size %d: %w",
			w.name(), len(p), w.offset, w.expected.Size, errdefs.ErrFailedPrecondition)
	}
	n, err := w.data.Write(p)
	w.hash.Hash().Write(p[:n])
	w.offset += int64(n)
	if err != nil {
		w.failed = fmt.Errorf("write %s: %w", w.name(), diskFull(err))
		return n, w.failed
	}
	return n, nil
}

// Close stops writing and keeps the data for a later writer of the key.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.data != nil {
		err = w.data.Close()
	}
	// The key first: a waiter for the digest takes the key lock next.
	err = errors.Join(err, w.keyLock.release(false))
	if w.dgstLock != nil {
		err = errors.Join(err, w.dgstLock.release(true))
	}
	return err
}

// Abort stops writing and removes the data. After Close or Commit it does
// nothing.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	err := w.discard()
	return errors.Join(err, w.Close())
}

// discard removes the ingest directory; the caller holds its lock.
func (w *Writer) discard() error {
	if w.data != nil {
		w.data.Close()
		w.data = nil
	}
	if err := os.RemoveAll(w.dir); err != nil {
		return fmt.Errorf("remove ingest %q: %w", w.key, err)
	}
	return nil
}

// abandon drops the writer as a killed process would: the kernel closes its
// files, which releases the locks, and nothing else happens.
func (w *Writer) abandon() {
	w.closed = true
	w.data.Close()
	w.keyLock.f.Close()
	if w.dgstLock != nil {
		w.dgstLock.f.Close()
	}
}

// name says what is being written, for errors.
func (w *Writer) name() string {
	if w.expected.Digest != "" {
		return "blob " + w.expected.Digest.String()
	}
	return "ingest " + strconv.Quote(w.key)
}
