package stream

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// RawTerminal puts the terminal on fd in raw mode, so that keys reach
// the container as typed, and returns the function that restores it.
// A fd that is not a terminal is left alone.
func RawTerminal(fd int) (restore func(), err error) {
	if fd < 0 || !term.IsTerminal(fd) {
		return func() {}, nil
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { term.Restore(fd, state) }, nil
}

// Size is the size of the terminal on fd.
func Size(fd int) (height, width uint, ok bool) {
	if fd < 0 {
		return 0, 0, false
	}
	w, h, err := term.GetSize(fd)
	if err != nil || w <= 0 || h <= 0 {
		return 0, 0, false
	}
	return uint(h), uint(w), true
}

// MonitorSize calls resize with the terminal's size now and at each
// SIGWINCH, until ctx is done.
func MonitorSize(ctx context.Context, fd int, resize func(height, width uint)) {
	if h, w, ok := Size(fd); ok {
		resize(h, w)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				if h, w, ok := Size(fd); ok {
					resize(h, w)
				}
			}
		}
	}()
}
