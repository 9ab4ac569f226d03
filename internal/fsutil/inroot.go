package fsutil

import "golang.org/x/sys/unix"

// OpenInRoot opens name relative to the directory root as an O_PATH
// descriptor (plus flags), resolved by openat2(2) with RESOLVE_IN_ROOT:
// symlinks, absolute or climbing with "..", resolve as they would in a
// process whose root is root, never beyond it, and magic links
// (/proc/self/fd/N) are refused. A lookup that races with a rename
// (EAGAIN) is tried again.
func OpenInRoot(root int, name string, flags uint64) (int, error) {
	how := unix.OpenHow{
		Flags:   flags | unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 16 {
		fd, err := unix.Openat2(root, name, &how)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}
