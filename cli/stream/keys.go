package stream

import (
	"fmt"
	"io"
	"strings"
)

// DefaultDetachKeys is docker's detach sequence.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseKeys reads a detach key sequence: comma-separated single
// characters or ctrl-<key> with key one of a-z, @, [, \, ], ^, _.
func ParseKeys(s string) ([]byte, error) {
	var out []byte
	for _, k := range strings.Split(s, ",") {
		lower := strings.ToLower(k)
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case strings.HasPrefix(lower, "ctrl-") && len(lower) == 6:
			c := lower[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c == '@':
				out = append(out, 0)
			case c >= '[' && c <= '_':
				out = append(out, c-'['+27)
			default:
				return nil, fmt.Errorf("Invalid detach keys (%s) provided", s)
			}
		default:
			return nil, fmt.Errorf("Invalid detach keys (%s) provided", s)
		}
	}
	return out, nil
}

// ErrDetached reports that the user typed the detach sequence.
var ErrDetached = fmt.Errorf("read escape sequence")

// escapeReader passes input through until the detach sequence has been
// read, then returns ErrDetached. Bytes that start the sequence are held
// back until it is complete or broken.
type escapeReader struct {
	r       io.Reader
	keys    []byte
	matched int // how many bytes of keys the input has matched so far
	pending []byte
}

// EscapeReader wraps r to stop at the detach sequence keys (none: r as
// it is).
func EscapeReader(r io.Reader, keys []byte) io.Reader {
	if len(keys) == 0 {
		return r
	}
	return &escapeReader{r: r, keys: keys}
}

func (e *escapeReader) Read(p []byte) (int, error) {
	if len(e.pending) > 0 {
		n := copy(p, e.pending)
		e.pending = e.pending[n:]
		return n, nil
	}
	buf := make([]byte, len(p))
	n, err := e.r.Read(buf)
	out := p[:0]
	for _, b := range buf[:n] {
		if b == e.keys[e.matched] {
			e.matched++
			if e.matched == len(e.keys) {
				return copy(p, out), ErrDetached
			}
			continue
		}
		// A broken prefix goes through as typed.
		held := e.keys[:e.matched]
		e.matched = 0
		if b == e.keys[0] {
			e.matched = 1
			out = append(out, held...)
			continue
		}
		out = append(out, held...)
		out = append(out, b)
	}
	if len(out) > len(p) { // a held prefix made it longer
		e.pending = append(e.pending, out[len(p):]...)
		out = out[:len(p)]
	}
	return copy(p, out), err
}
