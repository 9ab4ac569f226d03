package command

import (
	"io"
	"os"

	"golang.org/x/term"
)

// In is the CLI's standard input.
type In struct {
	io.Reader
	fd  int
	tty bool
}

// NewIn wraps r; a terminal is recognised when r is an *os.File.
func NewIn(r io.Reader) *In {
	in := &In{Reader: r, fd: -1}
	if f, ok := r.(*os.File); ok {
		in.fd = int(f.Fd())
		in.tty = term.IsTerminal(in.fd)
	}
	return in
}

// IsTerminal reports whether standard input is a terminal.
func (i *In) IsTerminal() bool { return i.tty }

// FD is the file descriptor, or -1.
func (i *In) FD() int { return i.fd }

// Out is the CLI's standard output.
type Out struct {
	io.Writer
	fd  int
	tty bool
}

// NewOut wraps w; a terminal is recognised when w is an *os.File.
func NewOut(w io.Writer) *Out {
	o := &Out{Writer: w, fd: -1}
	if f, ok := w.(*os.File); ok {
		o.fd = int(f.Fd())
		o.tty = term.IsTerminal(o.fd)
	}
	return o
}

// IsTerminal reports whether standard output is a terminal.
func (o *Out) IsTerminal() bool { return o.tty }

// FD is the file descriptor, or -1.
func (o *Out) FD() int { return o.fd }

// Size is the terminal's size (0, 0 when it is not a terminal).
func (o *Out) Size() (width, height int) {
	if !o.tty {
		return 0, 0
	}
	w, h, err := term.GetSize(o.fd)
	if err != nil {
		return 0, 0
	}
	return w, h
}
