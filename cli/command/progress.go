package command

import (
	"io"

	"github.com/berth-dev/berth/cli/progress"
)

// ShowProgressOn renders a JSON message stream on w (a terminal when w
// is one), returning the stream's error. run uses it to show a pull on
// standard error.
func ShowProgressOn(w io.Writer, r io.Reader) error {
	out := NewOut(w)
	width, _ := out.Size()
	return progress.Render(w, r, progress.Options{Terminal: out.IsTerminal(), Width: width})
}
