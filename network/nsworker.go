package network

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsWorker runs functions on one OS thread kept in a network namespace:
// sockets made there (nftables, DNS listeners, port reservations) belong
// to that namespace whatever goroutine uses them later.
type nsWorker struct {
	jobs chan func()
}

func newNSWorker(path string) (*nsWorker, error) {
	w := &nsWorker{jobs: make(chan func())}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread dies with the goroutine rather than
		// going back to the pool in another namespace.
		runtime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		errc <- err
		if err != nil {
			return
		}
		for f := range w.jobs {
			f()
		}
	}()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	return w, nil
}

func (w *nsWorker) do(f func() error) error {
	done := make(chan error, 1)
	w.jobs <- func() { done <- f() }
	return <-done
}

func (w *nsWorker) close() { close(w.jobs) }
