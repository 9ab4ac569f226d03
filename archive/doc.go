// Package archive turns layer tar streams into directories and directories
// into tar streams: the unpacking step of an image pull and of the copying
// snapshotter, and the packing step of commit, export and copy-out.
//
// # Applying a layer
//
// A layer blob is opened with [Decompress], which detects gzip, zstd or
// plain tar from the first bytes, and the uncompressed stream is given to
// [Apply] along with the directory the layer goes to. The image pull runs
// one Apply per layer, each into its own overlay upper directory, all at
// once as the layers' bytes arrive; nothing in this package is shared
// between calls except a pool of copy buffers.
//
// A layer is a changeset (the OCI image spec's layer section): entries add
// or replace files, and whiteouts remove what lower layers hold. A
// ".wh.NAME" entry removes NAME from its directory; ".wh..wh..opq" removes
// everything lower layers put in its directory. A whiteout never hides what
// its own layer adds, whatever the order of the entries. [WhiteoutMode]
// picks how whiteouts are applied:
//
//   - [Overlay]: the directory is an empty overlay upper directory. NAME
//     becomes an overlay whiteout (a character device 0:0), and an opaque
//     directory gets the attribute trusted.overlay.opaque="y" (overlayfs(5)).
//     Overlay needs root, as trusted.* attributes and device nodes do.
//   - [Delete]: the directory holds a copy of the lower layers, and
//     whiteouts delete what they name.
//   - [Plain]: not a layer but files copied into a container (docker
//     cp): ".wh." names are ordinary files, and a "./" entry leaves the
//     target directory's owner and mode alone. [ApplyOptions] can then
//     give every entry one owner and refuse to replace a directory with
//     a non-directory or the reverse, as the Engine API's extraction
//     does.
//
// Entries keep what Docker keeps: type (file, directory, symlink, hard link,
// character and block device, fifo), owner, mode with setuid, setgid and
// sticky bits, modification and access times (a directory's set after its
// content), and extended attributes from SCHILY.xattr.* PAX records,
// file capabilities included (set after chown, which clears them).
// overlayfs' own attributes (trusted.overlay.*, user.overlay.*) in a layer
// are dropped: only whiteouts may make a directory opaque. An entry over an
// existing one replaces it, except that a directory over a directory merges
// into it.
//
// # Hostile layers
//
// A layer is untrusted input, and nothing outside the directory is ever
// created, changed or followed. Entry names are cleaned as Docker does: an
// absolute name is taken relative to the directory, and a name or hard link
// target that climbs out of it ("../x", "a/../../x") is an error. Each
// entry's parent directory is opened with openat2(2) and RESOLVE_IN_ROOT, so
// a symlink on the way, planted by an earlier entry or already in the
// directory, resolves as it would in a container rooted there; the entry
// itself is then made relative to that parent's descriptor without
// following a symlink. Declared sizes are never trusted for memory, sparse
// entries (whose logical size is free) and names holding NUL bytes are
// refused, and memory grows only with the number of directories (plus the
// number of entries in Delete mode). The fuzz target FuzzApply checks that no
// input panics or writes beside the directory.
//
// # Writing layers
//
// [Tar] writes a whole tree (export), [TarEntry] one entry under the name
// the user asked for (copy-out), and [Diff] an overlay upper directory as
// a layer, turning overlay whiteouts and opaque directories back into
// whiteout entries ([DiffWith] leaves out a container's mount points). Both are deterministic for a given tree, so a
// layer committed twice has one digest. Neither compresses: the caller wraps
// w.
//
// # Costs
//
// The cost of applying a layer is the filesystem's cost of creating inodes;
// Apply adds no lookups before creating (it creates, and looks only when
// the name is taken), resolves a parent directory once for its run of
// entries, and copies through one pooled 1 MiB buffer. It does not sync:
// the caller syncs the filesystem once before recording the layer.
//
// The fuzz target runs best on a tmpfs (inode creation dominates):
//
//	TMPDIR=/some/tmpfs go test ./archive -run '^$' -fuzz FuzzApply -fuzztime 60s -fuzzminimizetime 50x
//
// Not supported: sparse entries, AUFS hard link directories
// (.wh..wh.plnk, skipped), LIBARCHIVE.xattr records, and, in Diff, upper
// directories written with overlay's redirect_dir or metacopy.
package archive
