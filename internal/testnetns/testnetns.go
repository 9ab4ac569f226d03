// Package testnetns gives tests network namespaces of their own, so they
// never touch the host's links, routes or nftables tables. It is
// internal/netlab's namespaces named by path, with the test's cleanup,
// for code that takes a namespace as a path (the network service's
// Options.NetNS, an endpoint's NetNS).
package testnetns

import (
	"fmt"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
)

// New makes a network namespace with lo up and returns a path to it
// ("/proc/self/fd/N", valid until the test ends, when it is closed and the
// namespace goes with its last user). The caller must be root.
func New(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("/proc/self/fd/%d", int(Handle(t)))
}

// Handle makes a network namespace with lo up and returns its handle,
// closed when the test ends. The caller must be root.
func Handle(t testing.TB) netns.NsHandle {
	t.Helper()
	ns, err := netlab.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

// Do runs f on a thread inside the namespace at path and returns its
// error. The thread is not reused afterwards.
func Do(path string, f func() error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer ns.Close()
	return netlab.In(ns, f)
}
