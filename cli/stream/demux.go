package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream numbers of the multiplexed format.
const (
	Stdin  = 0
	Stdout = 1
	Stderr = 2
	System = 3
)

// maxFrame bounds one frame's payload: a daemon never sends more than
// its copy buffer at once, and a corrupt header must not make us
// allocate gigabytes.
const maxFrame = 16 << 20

// Demux copies a multiplexed stream from r to stdout and stderr until
// EOF. A frame on the system stream ends the copy with the error it
// carries.
func Demux(stdout, stderr io.Writer, r io.Reader) (written int64, err error) {
	var hdr [8]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return written, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return written, fmt.Errorf("multiplexed stream: truncated frame header")
			}
			return written, err
		}
		size := binary.BigEndian.Uint32(hdr[4:])
		if size > maxFrame {
			return written, fmt.Errorf("multiplexed stream: frame of %d bytes is too large", size)
		}
		var w io.Writer
		switch hdr[0] {
		case Stdin, Stdout:
			w = stdout
		case Stderr:
			w = stderr
		case System:
			msg := make([]byte, size)
			if _, err := io.ReadFull(r, msg); err != nil {
				return written, fmt.Errorf("multiplexed stream: truncated error frame")
			}
			return written, fmt.Errorf("error from daemon in stream: %s", msg)
		default:
			return written, fmt.Errorf("multiplexed stream: unknown stream %d", hdr[0])
		}
		for size > 0 {
			n := min(int(size), len(buf))
			m, err := io.ReadFull(r, buf[:n])
			if m > 0 {
				if _, werr := w.Write(buf[:m]); werr != nil {
					return written, werr
				}
				written += int64(m)
			}
			if err != nil {
				return written, fmt.Errorf("multiplexed stream: truncated frame")
			}
			size -= uint32(m)
		}
	}
}

// Mux writes p as one frame of stream s (for tests and fakes).
func Mux(w io.Writer, s byte, p []byte) error {
	var hdr [8]byte
	hdr[0] = s
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}
