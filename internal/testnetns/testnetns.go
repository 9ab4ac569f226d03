// Package testnetns gives tests network namespaces of their own, so they
// never touch the host's links, routes or nftables tables.
package testnetns

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// New makes a network namespace with lo up and returns a path to it
// ("/proc/self/fd/N", valid until the test ends, when it is closed and the
// namespace goes with its last user). The caller must be root.
func New(t testing.TB) string {
	t.Helper()
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is never unlocked: it dies with the goroutine, so
		// no other goroutine ever runs in the new namespace.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("unshare net: %w", err)}
			return
		}
		f, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			ch <- result{err: err}
			return
		}
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			f.Close()
			ch <- result{err: fmt.Errorf("bring lo up: %w", err)}
			return
		}
		ch <- result{f: f}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("new network namespace: %v", r.err)
	}
	t.Cleanup(func() { r.f.Close() })
	return fmt.Sprintf("/proc/self/fd/%d", r.f.Fd())
}

// Do runs f on a thread inside the namespace at path and returns its
// error. The thread is not reused afterwards.
func Do(path string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- fmt.Errorf("open %s: %w", path, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			ch <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		ch <- f()
	}()
	return <-ch
}
