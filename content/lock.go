package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// lockFile is an open file on which this process holds an open file
// description (OFD) write lock. OFD locks, like flock, belong to the open
// file rather than the process, so they exclude goroutines of one process
// from each other as well as other processes; unlike flock they can be
// tested without being taken (F_OFD_GETLK), which Ingests uses. The kernel
// drops the lock when the file is closed, by Close or by the process dying.
type lockFile struct {
	f    *os.File
	path string
}

// maxPoll bounds the wait between two attempts to take a busy lock. The
// kernel's blocking F_OFD_SETLKW cannot be interrupted by a context, so
// waiters poll; a waiter typically waits for a download, so a few tens of
// milliseconds of extra latency do not matter.
const maxPoll = 50 * time.Millisecond

// acquire takes the lock on path, creating the file. With wait it polls
// until the lock is free or ctx is done; without, a busy lock returns an
// error wrapping errdefs.ErrUnavailable. A missing parent directory returns
// an error wrapping fs.ErrNotExist.
func acquire(ctx context.Context, path string, wait bool) (*lockFile, error) {
	delay := time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, diskFull(err)
		}
		for {
			err = setLock(f)
			if !isBusy(err) {
				break
			}
			if !wait {
				f.Close()
				return nil, fmt.Errorf("lock %s: held by another writer: %w", path, errdefs.ErrUnavailable)
			}
			if err := pause(ctx, &delay); err != nil {
				f.Close()
				return nil, fmt.Errorf("wait for lock %s: %w", path, err)
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The previous holder removes the lock file before it lets go, so the
		// lock may be on a file no longer at path: then start over.
		if sameFile(f, path) {
			return &lockFile{f: f, path: path}, nil
		}
		f.Close()
	}
}

// release drops the lock; with remove it first removes the lock file, which
// only the holder may do.
func (l *lockFile) release(remove bool) error {
	var err error
	if remove {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
	}
	return errors.Join(err, l.f.Close())
}

// lockHeld reports whether some open file holds the lock on path, without
// taking it.
func lockHeld(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}

func setLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart} // Start 0, Len 0: the whole file
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}

func isBusy(err error) bool {
	return errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES)
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// pause waits *delay or until ctx is done, then doubles *delay up to maxPoll.
func pause(ctx context.Context, delay *time.Duration) error {
	t := time.NewTimer(*delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	*delay = min(2**delay, maxPoll)
	return nil
}
