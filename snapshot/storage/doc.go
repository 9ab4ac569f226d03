// Package storage is the bookkeeping the snapshotters share: records in a
// bbolt bucket and one directory per snapshot, kept consistent across
// crashes. An implementation (overlay, native) adds only what differs: how
// an active snapshot is filled and which mounts present it.
//
// Layout, for a snapshotter with root R and bucket B:
//
//	R/snapshots/<id>/fs     the snapshot's files (an overlay upper dir, or a full tree)
//	R/snapshots/<id>/work   overlayfs's work dir
//	R/snapshots/new-*       a snapshot being built, renamed to <id> when recorded
//	R/snapshots/rm-*        a removed snapshot being deleted
//
//	B/keys/<key>            JSON record: id, kind, parent, labels, times
//	B/children/<parent>\x00<key>   index of the snapshots on top of parent
//	B's sequence            the last id handed out
//
// The invariant is that every record's directory exists. Creating builds
// the directory under a temporary name and renames it to its id inside the
// write transaction, before it commits; removing commits first and deletes
// after. A crash thus leaves at most directories without records, which
// Orphans finds and Cleanup removes. An id whose transaction never
// committed is handed out again; a directory left under that id is moved
// aside first.
package storage
