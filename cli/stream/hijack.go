package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/moby/moby/client"
)

// Session is what one attach or exec moves over a hijacked connection.
type Session struct {
	// In is copied to the container when not nil; its EOF closes the
	// connection's write side (the container sees EOF on stdin).
	In io.Reader
	// Out and Err receive the container's output; with TTY there is one
	// raw stream, which goes to Out.
	Out, Err io.Writer
	TTY      bool
	// DetachKeys end the session (ErrDetached) when read from In.
	DetachKeys []byte
}

// Run moves the streams until the container's output ends, the user
// detaches (ErrDetached), or ctx is done. Output that ends after stdin
// keeps flowing until its EOF, as docker attach does.
func (s Session) Run(ctx context.Context, resp *client.HijackedResponse) error {
	outDone := make(chan error, 1)
	go func() {
		var err error
		if s.TTY {
			_, err = io.Copy(s.Out, resp.Reader)
		} else {
			_, err = Demux(s.Out, s.Err, resp.Reader)
		}
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		outDone <- err
	}()
	inDone := make(chan error, 1)
	var once sync.Once
	if s.In != nil {
		go func() {
			_, err := io.Copy(resp.Conn, EscapeReader(s.In, s.DetachKeys))
			if errors.Is(err, ErrDetached) {
				inDone <- err
				return
			}
			once.Do(func() { resp.CloseWrite() })
			inDone <- nil
		}()
	}
	for {
		select {
		case err := <-outDone:
			return err
		case err := <-inDone:
			if err != nil {
				resp.Close()
				return err
			}
			inDone = nil // stdin is done; keep reading output
		case <-ctx.Done():
			resp.Close()
			return ctx.Err()
		}
	}
}
