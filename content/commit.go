package content

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/internal/fsutil"
)

// Commit verifies the size and digest and makes the blob visible. It returns
// what was stored, which is how a writer of unknown content learns its
// digest. A digest mismatch discards the data; a short size keeps it for
// resume. If the blob appeared meanwhile (written under another key),
// Commit discards this copy and succeeds.
func (w *Writer) Commit(ctx context.Context) (Descriptor, error) {
	if w.closed {
		return Descriptor{}, fmt.Errorf("commit %s: writer closed: %w", w.name(), errdefs.ErrFailedPrecondition)
	}
	defer w.Close()
	if err := ctx.Err(); err != nil {
		return Descriptor{}, fmt.Errorf("commit %s: %w", w.name(), err)
	}
	if w.failed != nil {
		return Descriptor{}, fmt.Errorf("commit after a failed write: %w", w.failed)
	}
	if w.expected.Size >= 0 && w.offset != w.expected.Size {
		return Descriptor{}, fmt.Errorf("commit %s: got %d bytes, want %d: %w",
			w.name(), w.offset, w.expected.Size, errdefs.ErrFailedPrecondition)
	}
	desc := Descriptor{Digest: w.hash.Digest(), Size: w.offset}
	if w.expected.Digest != "" && desc.Digest != w.expected.Digest {
		w.discard()
		return Descriptor{}, fmt.Errorf("commit %s: content has digest %s (%d bytes), want %s: %w",
			w.name(), desc.Digest, desc.Size, w.expected.Digest, errdefs.ErrFailedPrecondition)
	}
	target := filepath.Join(w.s.blobDir(), desc.Digest.Encoded())
	if _, err := os.Lstat(target); err == nil {
		w.discard()
		return desc, nil
	}
	// 1. The data reaches the disk before its name can: a crash after the
	//    rename must not leave a verified name over unwritten blocks.
	if err := w.data.Sync(); err != nil {
		return Descriptor{}, fmt.Errorf("commit %s: sync: %w", w.name(), diskFull(err))
	}
	// 2. Read-only before visible, so a blob is never seen writable.
	if err := w.data.Chmod(0o444); err != nil {
		return Descriptor{}, fmt.Errorf("commit %s: %w", w.name(), err)
	}
	if w.s.crashAt == "synced" {
		w.abandon()
		return Descriptor{}, errCrash
	}
	// 3. Atomic publication, then the directory entry made durable.
	if err := os.Rename(filepath.Join(w.dir, dataFile), target); err != nil {
		return Descriptor{}, fmt.Errorf("commit %s: %w", w.name(), diskFull(err))
	}
	if w.s.crashAt == "renamed" {
		w.abandon()
		return Descriptor{}, errCrash
	}
	err := fsutil.SyncDir(w.s.blobDir())
	// 4. The ingest is spent, durable or not.
	w.discard()
	if err != nil {
		return Descriptor{}, fmt.Errorf("commit %s: sync %s: %w", w.name(), w.s.blobDir(), diskFull(err))
	}
	return desc, nil
}

// errCrash is what Commit returns when a test makes it stop dead.
var errCrash = errors.New("simulated crash")
