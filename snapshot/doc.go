// Package snapshot defines the snapshotter: the component that keeps the
// layered filesystems of images and containers, as value types and one
// interface. Implementations live beside it (snapshot/overlay,
// snapshot/native) and all run the conformance suite in snapshot/testsuite.
//
// # Lifecycle
//
// A snapshot is named by a key and is one of three kinds:
//
//	Prepare(key, parent) ──▶ active (writable) ──Commit(name, key)──▶ committed (immutable, may be a parent)
//	View(key, parent)    ──▶ view (read-only)
//	Remove(key) on any kind; refused while other snapshots name it as their parent
//
// Keys and committed names share one namespace. A snapshotter never mounts:
// Prepare, View and Mounts return []mount.Mount as data, and the caller
// applies them with internal/mount (mount.All) and takes them off again
// before Commit or Remove.
//
// # Unpacking layers concurrently
//
// The pull pipeline unpacks every layer at once, each into its own active
// snapshot, before the layers below it are committed. Features tells how:
//
//   - Rebase: a layer can be prepared with no parent and committed on top of
//     its real parent with Commit(ctx, chainID, key, WithParent(parentChainID)).
//     The overlay snapshotter can, because an overlay upper dir does not
//     depend on the layers below it.
//   - OverlayWhiteouts: deletions in a layer are written as overlay
//     whiteouts (a 0:0 character device for a deleted name, the xattr
//     trusted.overlay.opaque=y on a directory whose lower contents are
//     hidden). Otherwise the active snapshot holds a full copy of its parent
//     and a deletion is applied by deleting.
//
// The native (copying) snapshotter has neither: its layers are prepared on
// top of their committed parent, one after another.
//
// # Crash safety
//
// Records live in the daemon's bbolt database, one top-level bucket per
// snapshotter; each operation is one transaction. A new snapshot's
// directory is built under a temporary name and renamed into place inside
// the transaction that records it, so a record always has its directory; a
// removal commits the record's deletion before deleting the directory. What
// a crash leaves behind is a directory no record names: Cleaner.Orphans
// lists such directories and Cleaner.Cleanup removes them (berthd at start,
// `berth system fsck --repair`).
//
// The snapshotter does not sync the files a caller writes into an active
// snapshot: a crash of the daemon loses nothing (the page cache survives
// it), and a caller that needs a layer to survive power loss syncs its
// filesystem (syncfs) before Commit.
package snapshot
