package shim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Attach connects to the container's stdio. The connection carries the
// container's output from now on (not what it wrote before: that is in the
// log) and takes stdin if the shim was started with Stdin. Without a
// terminal the output is framed as Docker's multiplexed stream (see Demux);
// with one it is the pty's raw bytes. CloseWrite ends this client's input
// only; CloseStdin closes the container's. The connection reaches EOF when
// the container has exited.
func (s *Shim) Attach(ctx context.Context) (*net.UnixConn, error) {
	c, err := s.dial(ctx, attachSock)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	// The greeting says the shim has registered this client; reading it
	// byte by byte leaves the output that follows in the socket.
	var greet [3]byte
	_, err = io.ReadFull(c, greet[:])
	if !stop() || err != nil || string(greet[:]) != "ok\n" {
		c.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("attach container %s: %w", s.info.ID, ctx.Err())
		}
		return nil, fmt.Errorf("attach container %s: shim did not greet (%q): %v", s.info.ID, greet[:], err)
	}
	return c, nil
}

// Stream numbers of the multiplexed stream, as Docker's.
const (
	Stdout = 1
	Stderr = 2
)

// Demux copies a multiplexed stream (8-byte headers: stream, 0, 0, 0,
// big-endian payload length) to stdout and stderr until EOF.
func Demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read stream header: %w", err)
		}
		var w io.Writer
		switch hdr[0] {
		case Stdout:
			w = stdout
		case Stderr:
			w = stderr
		default:
			return fmt.Errorf("stream header %x: unknown stream %d", hdr, hdr[0])
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		if got, err := io.CopyN(w, r, n); err != nil {
			return fmt.Errorf("stream %d: read %d of %d bytes: %w", hdr[0], got, n, err)
		}
	}
}
