package containers

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// loopbackUp brings up "lo" in the network namespace of process pid: a new
// network namespace starts with its loopback down, and the network service
// configures only the container's other interfaces.
//
// The goroutine enters the namespace only long enough to open a socket
// there (a socket stays bound to the namespace it was created in); the
// ioctls then run on that socket from berthd's own namespace. The thread
// is locked while it is inside, and if it cannot return to berthd's
// namespace it stays locked, so that the runtime ends it with the
// goroutine instead of reusing it.
func loopbackUp(pid int) error {
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		fd, back, err := socketIn(pid)
		if back {
			runtime.UnlockOSThread()
		}
		done <- result{fd, err}
	}()
	r := <-done
	if r.err != nil {
		return r.err
	}
	defer unix.Close(r.fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	if err := unix.IoctlIfreq(r.fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo of process %d: read flags: %w", pid, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(r.fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo of process %d: %w", pid, err)
	}
	return nil
}

// socketIn opens a datagram socket in pid's network namespace. It locks
// the calling thread; back reports whether the thread is in its own
// namespace again and may be unlocked.
func socketIn(pid int) (fd int, back bool, err error) {
	runtime.LockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("open own network namespace: %w", err)
	}
	defer unix.Close(self)
	target, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("open network namespace of process %d: %w", pid, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return -1, true, fmt.Errorf("enter network namespace of process %d: %w", pid, err)
	}
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if berr := unix.Setns(self, unix.CLONE_NEWNET); berr != nil {
		if err == nil {
			unix.Close(fd)
		}
		return -1, false, fmt.Errorf("return to own network namespace: %w", berr)
	}
	if err != nil {
		return -1, true, fmt.Errorf("socket in network namespace of process %d: %w", pid, err)
	}
	return fd, true, nil
}
