package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
)

// serveCRR answers, on TCP port in ns, each connection's byte with one
// byte, until the process ends.
func serveCRR(ns netns.NsHandle, port int) error {
	var ln net.Listener
	err := netlab.In(ns, func() (err error) {
		ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		return fmt.Errorf("connection server: %w", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(b)
				}
			}()
		}
	}()
	return nil
}

// crr counts connect, one byte there and back, close (RST, so that no
// TIME_WAIT piles up) from ns to addr:port for d; it returns connections
// per second.
func crr(ns netns.NsHandle, addr string, port int, d time.Duration) (float64, error) {
	var n int
	target := net.JoinHostPort(addr, strconv.Itoa(port))
	start := time.Now()
	err := netlab.In(ns, func() error {
		b := make([]byte, 1)
		for time.Since(start) < d {
			c, err := net.DialTimeout("tcp4", target, time.Second)
			if err != nil {
				return err
			}
			tc := c.(*net.TCPConn)
			_, err = tc.Write(b)
			if err == nil {
				_, err = io.ReadFull(tc, b)
			}
			tc.SetLinger(0)
			tc.Close()
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("connections to %s: %w", target, err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
