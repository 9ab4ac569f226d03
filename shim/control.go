package shim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
)

// Start starts the container's process (runtime start).
func (s *Shim) Start(ctx context.Context) error {
	return s.call(ctx, "start")
}

// Kill sends sig to the container's init, or with all to every process of
// the container (runtime kill [--all]).
func (s *Shim) Kill(ctx context.Context, sig syscall.Signal, all bool) error {
	req := fmt.Sprintf("kill %d", int(sig))
	if all {
		req += " all"
	}
	return s.call(ctx, req)
}

// Resize sets the size of the container's pty.
func (s *Shim) Resize(ctx context.Context, rows, cols uint16) error {
	return s.call(ctx, fmt.Sprintf("resize %d %d", rows, cols))
}

// CloseStdin closes the container's stdin, which then reads EOF (what
// Docker does when the attach client of a StdinOnce container is done).
func (s *Shim) CloseStdin(ctx context.Context) error {
	return s.call(ctx, "close-stdin")
}

// dial connects to one of the shim's sockets; errdefs.ErrNotFound when no
// shim listens there any more (the container has exited).
func (s *Shim) dial(ctx context.Context, name string) (*net.UnixConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(s.dir, name))
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("container %s: no shim is running: %w", s.info.ID, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("container %s: connect to shim: %w", s.info.ID, err)
	}
	return c.(*net.UnixConn), nil
}

// call sends one request line on the control socket and reads the answer.
func (s *Shim) call(ctx context.Context, req string) error {
	c, err := s.dial(ctx, ctlSocket)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	verb, _, _ := strings.Cut(req, " ")
	if _, err := c.Write([]byte(req + "\n")); err != nil {
		return s.callErr(ctx, verb, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return s.callErr(ctx, verb, err)
	}
	line = strings.TrimSuffix(line, "\n")
	if line == "ok" {
		return nil
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return fmt.Errorf("%s container %s: %s", verb, s.info.ID, msg)
	}
	return fmt.Errorf("%s container %s: unexpected answer from shim: %q", verb, s.info.ID, line)
}

func (s *Shim) callErr(ctx context.Context, verb string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s container %s: %w", verb, s.info.ID, ctx.Err())
	}
	// The shim hangs up without answering only when it exits, which it
	// does when the container has.
	return fmt.Errorf("%s container %s: shim closed the connection (container exited): %w: %w", verb, s.info.ID, err, errdefs.ErrNotFound)
}
