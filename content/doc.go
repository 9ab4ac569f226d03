// Package content is berth's content-addressed blob store: every manifest,
// index, config and compressed layer is kept once, under its sha256 digest,
// and becomes visible only after its digest has been verified.
//
// # Layout
//
//	<root>/blobs/sha256/<hex>         committed blobs, read-only (0444)
//	<root>/ingest/<sha256(key)>/      one directory per in-progress write:
//	    lock                          OFD lock held by the writer of this key
//	    meta                          JSON: key, expected descriptor, start time
//	    data                          the bytes received so far
//	<root>/ingest/sha256-<hex>.lock   OFD lock held by the writer of a known digest
//
// The root is given by the caller; the package has no global state, so two
// stores (or two processes sharing one root) work side by side.
//
// # Writing
//
// Store.Writer opens the ingest named by a caller-chosen key (the puller uses
// "pull-<digest>"). The expected digest and size may be known (pull) or not
// (load, import: Descriptor{Size: -1}); Commit returns what was written.
//
//	w, err := s.Writer(ctx, key, content.Descriptor{Digest: d, Size: n})
//	  errdefs.ErrAlreadyExists  the blob is already in the store: nothing to do
//	w.Offset(), w.Partial()    bytes kept by an earlier writer of this key
//	w.Write(...)               appends; past the expected size fails at once
//	w.Commit(ctx)              verify size and digest, fsync, rename, fsync dir;
//	                           returns the Descriptor stored
//	w.Close()                  stop, keeping the partial data for resume
//	w.Abort()                  stop and remove the partial data
//
// One writer at a time per key and per expected digest, across goroutines and
// processes: both are guarded by open-file-description locks (fcntl F_OFD_*,
// like flock bound to the open file rather than to the process, and testable
// without taking them). Writer waits, cancellable through its context, until
// the holder is done: if the holder committed, the waiter gets
// ErrAlreadyExists, so concurrent pulls of one layer share one download; if it
// closed or aborted, the waiter takes over and resumes what is left. TryWriter
// does not wait and returns ErrUnavailable instead.
//
// A lock file is removed only by the holder of its lock, and a locker checks
// after locking that the path still names the file it locked, so removing
// lock files never lets two writers in.
//
// # Resume
//
// A writer that finds data from an earlier writer of the same key (closed
// without commit, or a process killed with -9) re-hashes those bytes before it
// accepts more, so the digest checked at Commit covers all of them; no hash
// state is saved. Partial returns those bytes so that a streaming consumer
// (the unpacker) can catch up before the rest arrives from Offset. Data kept
// for a different expected descriptor, or longer than the expected size, is
// discarded.
//
// # Commit and crashes
//
// Commit checks the size, then the digest; a digest mismatch discards the
// partial data (a wrong body must not be resumed), a short body keeps it. It
// then fsyncs the data, makes it read-only, renames it into blobs/sha256 and
// fsyncs that directory, and last removes the ingest directory. A crash at any
// point leaves either a complete verified blob or nothing under blobs/; Open
// removes what a crash can leave behind (temp files, lock files nobody holds,
// ingests whose blob was already committed) and keeps resumable ingests.
//
// A full disk (ENOSPC, EDQUOT) during a write or commit returns an error
// naming the blob that wraps both errdefs.ErrResourceExhausted and the errno.
// After a failed Write the writer refuses further writes and Commit (so a
// truncated load cannot be stored under its own digest); Close keeps what
// reached the disk, consistent with its hash, for a later writer to resume.
//
// # Errors
//
//	errdefs.ErrNotFound           no such blob or ingest
//	errdefs.ErrAlreadyExists      Writer for a blob that is present
//	errdefs.ErrInvalidArgument    malformed digest, key or descriptor
//	errdefs.ErrNotImplemented     a digest algorithm other than sha256
//	errdefs.ErrUnavailable        TryWriter or AbortIngest on a busy key or digest
//	errdefs.ErrFailedPrecondition write past the expected size; Commit with a
//	                              wrong size or digest
//	errdefs.ErrDataLoss           Verify found a blob whose bytes do not match
//	errdefs.ErrResourceExhausted  disk full
package content
