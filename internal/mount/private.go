package mount

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Private runs fn in a mount namespace of its own: a copy of the
// caller's, with every mount made private first, so that what fn mounts
// is seen by no other process and goes away with it, also when berthd
// dies halfway (nothing to clean up on the host).
//
// fn runs on a goroutine locked to an OS thread that left the process's
// shared filesystem attributes (unshare(2) CLONE_FS, which CLONE_NEWNS
// needs in a multi-threaded process). The thread never returns to the Go
// scheduler: the goroutine ends without unlocking it, so the runtime
// ends the thread too. Path lookups in the namespace happen only on that
// goroutine: fn must not hand paths to other goroutines, and a path to
// one of its descriptors is /proc/thread-self/fd/N.
//
// The main thread is never used: it is the thread group leader, whose
// namespace /proc/self shows to the whole process (mountinfo included),
// and Go never ends it, so it would stay in the namespace for good.
func Private(fn func() error) error {
	errc := make(chan error, 1)
	go privateThread(fn, errc)
	return <-errc
}

func privateThread(fn func() error, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The main thread: hold it while another goroutine, which
		// cannot be scheduled here meanwhile, locks a thread of its
		// own; then give it back untouched.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			privateThread(fn, errc)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	// Never unlocked: see above.
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		errc <- fmt.Errorf("unshare mount namespace: %w", err)
		return
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		errc <- fmt.Errorf("make mounts private: %w", err)
		return
	}
	errc <- fn()
}

// BindAt binds source (a host path, trusted) onto the directory or file
// that the descriptor target refers to, recursively with rbind, read-only
// with ro. The target is a descriptor so that it can be resolved safely
// first (openat2 RESOLVE_IN_ROOT); it uses the new mount API
// (open_tree(2), mount_setattr(2), move_mount(2)), so that the read-only
// flag is set on the detached copy before it appears anywhere.
func BindAt(source string, target int, rbind, ro bool) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if rbind {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, source, flags)
	if err != nil {
		return fmt.Errorf("bind mount %s: open tree: %w", source, err)
	}
	defer unix.Close(fd)
	if ro {
		at := unix.AT_EMPTY_PATH
		if rbind {
			at |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(fd, "", uint(at), &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("bind mount %s: make it read-only: %w", source, err)
		}
	}
	if err := unix.MoveMount(fd, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind mount %s: attach it: %w", source, err)
	}
	return nil
}
