package netlab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/vishvananda/netns"
)

// Reach checks that a TCP connection from namespace from reaches addr in
// namespace to: a listener on addr (port chosen by the kernel) in to,
// a dial from from, a byte echoed back. It gives up after wait.
func Reach(from, to netns.NsHandle, addr netip.Addr, wait time.Duration) error {
	var ln net.Listener
	if err := In(to, func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
		return err
	}); err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b := make([]byte, 1)
			if _, err := c.Read(b); err == nil {
				c.Write(b)
			}
			c.Close()
		}
	}()
	target := ln.Addr().String()
	return In(from, func() error {
		var c net.Conn
		var err error
		for deadline := time.Now().Add(wait); ; {
			c, err = net.DialTimeout("tcp4", target, time.Second)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("connect to %s: %w", target, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(wait))
		if _, err := c.Write([]byte{'x'}); err != nil {
			return fmt.Errorf("write to %s: %w", target, err)
		}
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			return fmt.Errorf("read from %s: %w", target, err)
		}
		return nil
	})
}

// Path is a path naming the namespace ns, valid while ns is open.
func Path(ns netns.NsHandle) string { return fmt.Sprintf("/proc/%d/fd/%d", pid(), int(ns)) }

func pid() int { return os.Getpid() }
