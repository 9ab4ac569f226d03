// Package native is the copying snapshotter, for filesystems overlayfs
// cannot stack on. Each snapshot's fs dir holds a full tree: Prepare copies
// its parent's tree (hardlinks, xattrs, owners, modes, times, device nodes
// and fifos kept; file data by reflink, then copy_file_range, then read and
// write), and a layer's deletions are applied by deleting. A view is a
// read-only bind of its parent's tree, which committed snapshots never
// change, so it costs no copy.
//
// Because an active snapshot already contains its parent, it cannot be
// committed onto another parent: Features reports neither OverlayWhiteouts
// nor Rebase, and Commit with WithParent naming another parent fails with
// errdefs.ErrNotImplemented. Layers are thus unpacked one after another,
// each prepared on its committed parent.
package native
