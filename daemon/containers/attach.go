package containers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/shim"
)

// AttachOptions are the query of POST /containers/{id}/attach.
type AttachOptions struct {
	Stream, Logs          bool
	Stdin, Stdout, Stderr bool
	DetachKeys            string // "" is ctrl-p,ctrl-q
}

// AttachStreams are the client's side of an attach: Out takes the output
// (multiplexed frames without a terminal, raw bytes with one), In gives
// the input (nil without).
type AttachStreams struct {
	In  io.Reader
	Out io.Writer
}

// DefaultDetachKeys end an attach without stopping the container.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ErrDetached ends an attach whose client typed the detach keys.
var ErrDetached = errors.New("read escape sequence")

// Attach connects a client to a container's stdio. After the checks, open
// is called with whether the container has a terminal; it answers the
// request (the hijack) and returns the client's streams. Attaching to a
// created container waits for its start, so that a client attached before
// the start misses nothing; the attach ends when the container exits, the
// client detaches or goes away, or ctx ends.
func (s *Service) Attach(ctx context.Context, ref string, o AttachOptions, open func(tty bool) (AttachStreams, error)) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	keys, err := parseDetachKeys(o.DetachKeys)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cfg := c.rec.Config
	tty, openStdin, stdinOnce := cfg.Tty, cfg.OpenStdin, cfg.StdinOnce
	c.mu.Unlock()
	streams, err := open(tty)
	if err != nil {
		return err
	}
	s.publish(c, events.ActionAttach, nil)
	out := &outputFilter{w: streams.Out, tty: tty, stdout: o.Stdout, stderr: o.Stderr}
	if o.Logs {
		l, err := s.Logs(ctx, c.id, LogsOptions{Stdout: true, Stderr: true, Tail: -1})
		if err == nil {
			err = l.Each(ctx, out.entry)
		}
		if err != nil {
			return err
		}
	}
	if !o.Stream {
		return nil
	}
	conn, sh, err := s.attachConn(ctx, c)
	if conn == nil {
		return err
	}
	defer conn.Close()
	outDone := make(chan error, 1)
	go func() { outDone <- out.copyFrom(conn) }()
	inDone := make(chan error, 1)
	switch {
	case streams.In == nil:
	case o.Stdin && openStdin:
		go func() {
			if err := s.copyInput(ctx, c.id, sh, conn, streams.In, keys, tty, stdinOnce); err != nil {
				inDone <- err
			}
		}()
	default:
		// The client sends nothing; reading still notices a broken
		// connection.
		go func() {
			_, err := io.Copy(io.Discard, streams.In)
			if err != nil {
				inDone <- err
			}
		}()
	}
	select {
	case err := <-outDone:
		return err
	case err := <-inDone:
		switch {
		case errors.Is(err, ErrDetached):
			s.publish(c, events.ActionDetach, nil)
		case errors.Is(err, errInputEnded):
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

// attachConn connects to the container's shim: at once when it runs,
// after the start when it is created or restarting; nil when it has
// exited.
func (s *Service) attachConn(ctx context.Context, c *ctr) (*net.UnixConn, *shim.Shim, error) {
	c.mu.Lock()
	sh, st, gone := c.sh, c.rec.State.Status, c.gone
	if sh != nil {
		c.mu.Unlock()
		conn, err := sh.Attach(ctx)
		if errdefs.IsNotFound(err) {
			return nil, nil, nil
		}
		return conn, sh, err
	}
	if gone || (st != container.StateCreated && st != container.StateRestarting) {
		c.mu.Unlock()
		return nil, nil, nil
	}
	p := &pendingAttach{ch: make(chan attachResult, 1)}
	c.pending = append(c.pending, p)
	c.mu.Unlock()
	select {
	case r := <-p.ch:
		return r.conn, r.sh, r.err
	case <-ctx.Done():
		c.mu.Lock()
		waiting := false
		for i, q := range c.pending {
			if q == p {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				waiting = true
				break
			}
		}
		c.mu.Unlock()
		if !waiting {
			if r := <-p.ch; r.conn != nil {
				r.conn.Close()
			}
		}
		return nil, nil, ctx.Err()
	}
}

// pendingAttach is an attach client waiting for the container to start.
type pendingAttach struct {
	ch chan attachResult
}

type attachResult struct {
	conn *net.UnixConn
	sh   *shim.Shim
	err  error
}

func (p *pendingAttach) deliver(conn *net.UnixConn, sh *shim.Shim, err error) {
	p.ch <- attachResult{conn, sh, err}
}

// connectPending attaches the waiting clients to a shim whose container is
// created but not started yet.
func (s *Service) connectPending(ctx context.Context, c *ctr, sh *shim.Shim) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, p := range pending {
		conn, err := sh.Attach(ctx)
		p.deliver(conn, sh, err)
	}
}

// copyInput copies the client's input to the container, watching for the
// detach keys. When the input ends, as dockerd does: with a terminal the
// attach ends (errInputEnded); without one, a StdinOnce container's stdin
// is closed (once the shim has read everything sent) and the output goes
// on until the container exits.
func (s *Service) copyInput(ctx context.Context, id string, sh *shim.Shim, conn *net.UnixConn, in io.Reader, keys []byte, tty, once bool) error {
	err := copyDetach(conn, in, keys)
	if errors.Is(err, ErrDetached) {
		return err
	}
	conn.CloseWrite()
	if tty {
		return errInputEnded
	}
	if once {
		waitSent(conn, 5*time.Second)
		if err := sh.CloseStdin(ctx); err != nil && !errdefs.IsNotFound(err) {
			s.log.Debug("close container stdin", "container", id, "error", err)
		}
	}
	return err // nil at the end of the input: the output goes on
}

// errInputEnded ends an attach to a terminal whose client's input ended.
var errInputEnded = errors.New("the client's input ended")

// waitSent waits until the peer has read everything written on conn
// (SIOCOUTQ of a unix socket counts what it has not read yet).
func waitSent(conn *net.UnixConn, limit time.Duration) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n := 0
		raw.Control(func(fd uintptr) {
			n, err = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		})
		if err != nil || n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// copyDetach copies in to w until EOF (nil) or the detach keys
// (ErrDetached). Bytes that begin the key sequence are held back until
// the sequence breaks off.
func copyDetach(w io.Writer, in io.Reader, keys []byte) error {
	buf := make([]byte, 32<<10)
	matched := 0
	for {
		n, rerr := in.Read(buf)
		out := make([]byte, 0, n+len(keys))
		for _, b := range buf[:n] {
			if len(keys) > 0 && b == keys[matched] {
				matched++
				if matched == len(keys) {
					if len(out) > 0 {
						w.Write(out)
					}
					return ErrDetached
				}
				continue
			}
			out = append(out, keys[:matched]...)
			matched = 0
			if len(keys) > 0 && b == keys[0] {
				matched = 1
				continue
			}
			out = append(out, b)
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// parseDetachKeys reads docker's detach key syntax: comma-separated
// single characters or ctrl-<char>.
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = DefaultDetachKeys
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			ch := strings.ToLower(k)[5]
			switch {
			case ch >= 'a' && ch <= 'z':
				out = append(out, ch-'a'+1)
			case ch == '@':
				out = append(out, 0)
			case ch >= '[' && ch <= '_':
				out = append(out, ch-'['+27)
			default:
				return nil, errorf(errdefs.ErrInvalidArgument, "Invalid detach keys (%s) provided", s)
			}
		default:
			return nil, errorf(errdefs.ErrInvalidArgument, "Invalid detach keys (%s) provided", s)
		}
	}
	return out, nil
}

// outputFilter writes container output to a client: frames of the
// requested streams without a terminal, the raw bytes with one.
type outputFilter struct {
	w              io.Writer
	tty            bool
	stdout, stderr bool
}

// entry writes one log record.
func (f *outputFilter) entry(e LogEntry) error {
	stream := byte(shim.Stdout)
	if e.Stream == "stderr" {
		stream = shim.Stderr
	}
	return f.write(stream, e.Line)
}

func (f *outputFilter) write(stream byte, data []byte) error {
	if f.tty {
		if !f.stdout {
			return nil
		}
		_, err := f.w.Write(data)
		return err
	}
	if stream == shim.Stdout && !f.stdout || stream == shim.Stderr && !f.stderr {
		return nil
	}
	frame := make([]byte, 8+len(data))
	frame[0] = stream
	binary.BigEndian.PutUint32(frame[4:], uint32(len(data)))
	copy(frame[8:], data)
	_, err := f.w.Write(frame)
	return err
}

// copyFrom relays a shim attach connection until it ends.
func (f *outputFilter) copyFrom(r io.Reader) error {
	if f.tty {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if werr := f.write(shim.Stdout, buf[:n]); werr != nil {
					return werr
				}
			}
			if err != nil {
				return nil
			}
		}
	}
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if n > 16<<20 {
			return fmt.Errorf("attach: frame of %d bytes from the shim", n)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil
		}
		if err := f.write(hdr[0], data); err != nil {
			return err
		}
	}
}
