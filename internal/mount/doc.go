// Package mount applies mounts described as plain data.
//
// Snapshotters and spec builders never mount: they return []Mount values,
// and this package is the one place that turns them into mount system calls.
// All applies a list in order onto one target (later mounts stack on earlier
// ones) and undoes what it applied when a later mount fails; Unmount and
// UnmountAll take them off again.
//
// Overlay mounts get special care because deep images do not fit in the
// classic mount(2) data page (4096 bytes): with 100+ layers under a long
// data-root the lowerdir list alone is tens of kilobytes. On kernels with the
// new mount API and overlayfs's "lowerdir+" parameter (Linux 6.8 and later,
// told by uname) every layer is passed to fsconfig(2) on its own, so the
// length of the list does not matter; a path past fsconfig's 255-byte string
// limit goes as /proc/self/fd/N of an O_PATH descriptor. Older kernels get
// the classic mount(2), and when the data
// is too long the layer paths are made relative to their longest common
// directory, from a thread whose working directory is private to it
// (unshare(CLONE_FS)), so the process's working directory never changes.
//
// Private runs a function in a mount namespace of its own, on a thread that
// dies with it, so what it mounts (docker cp's view of a container: its
// layer and bind mounts) is never seen on the host and needs no cleanup;
// BindAt binds onto a descriptor resolved beforehand, with the new mount
// API, so that a read-only bind is never writable, not even for a moment.
package mount
