package progress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berth-dev/berth/cli/format"
)

// Options tune rendering.
type Options struct {
	// Terminal rewrites layer lines in place with cursor movements.
	Terminal bool
	// Width is the terminal's width in columns (0: 80); it decides how
	// wide the progress bar is.
	Width int
	// Aux, if set, receives the aux payload of messages that carry one
	// (push reports the pushed digest there).
	Aux func(json.RawMessage)
}

// StreamError is an error the daemon reported inside the stream.
type StreamError struct {
	Code    int
	Message string
}

func (e *StreamError) Error() string { return e.Message }

// Render decodes messages from r until EOF and writes them to out. It
// returns the first error message of the stream as a *StreamError, or
// a decoding error.
func Render(out io.Writer, r io.Reader, opts Options) error {
	rd := &renderer{out: out, opts: opts, last: map[string]string{}}
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read progress from the daemon: %w", err)
		}
		if m.Error != nil {
			msg := m.Error.Message
			if msg == "" {
				msg = "unknown error"
			}
			rd.endBlock()
			return &StreamError{Code: m.Error.Code, Message: msg}
		}
		if m.Aux != nil && opts.Aux != nil {
			opts.Aux(*m.Aux)
		}
		rd.message(m)
	}
}

type renderer struct {
	out  io.Writer
	opts Options
	// ids are the layers of the current block, top to bottom: on a
	// terminal the cursor sits on the line below the last one.
	ids []string
	// last is the line last printed for each layer, off a terminal.
	last map[string]string
}

func (r *renderer) message(m jsonstream.Message) {
	if m.Stream != "" {
		r.endBlock()
		io.WriteString(r.out, m.Stream)
		return
	}
	if m.Status == "" { // an aux message, or an empty one
		return
	}
	if m.ID == "" || m.Progress == nil {
		r.endBlock()
		if m.ID != "" {
			fmt.Fprintf(r.out, "%s: %s\n", m.ID, m.Status)
		} else {
			fmt.Fprintln(r.out, m.Status)
		}
		return
	}
	if !r.opts.Terminal {
		if r.last[m.ID] == m.Status {
			return
		}
		r.last[m.ID] = m.Status
		fmt.Fprintf(r.out, "%s: %s\n", m.ID, m.Status)
		return
	}
	line := -1
	for i, id := range r.ids {
		if id == m.ID {
			line = i
		}
	}
	if line < 0 {
		r.ids = append(r.ids, m.ID)
		line = len(r.ids) - 1
		io.WriteString(r.out, "\n")
	}
	up := len(r.ids) - line
	text := m.ID + ": " + m.Status
	if bar := Bar(m.Progress, r.width()); bar != "" {
		text += " " + bar
	}
	// Up to the layer's line, clear it, write, and back down.
	fmt.Fprintf(r.out, "\x1b[%dA\r\x1b[2K%s\r\x1b[%dB", up, r.fit(text), up)
}

// endBlock forgets the layer lines: what comes next is printed below
// them.
func (r *renderer) endBlock() {
	r.ids = nil
	clear(r.last)
}

func (r *renderer) width() int {
	if r.opts.Width > 0 {
		return r.opts.Width
	}
	return 80
}

// fit cuts a line to the terminal's width, so that it never wraps and
// the cursor arithmetic stays right.
func (r *renderer) fit(s string) string {
	w := r.width() - 1
	if len(s) > w && w > 0 {
		return s[:w]
	}
	return s
}

// Bar is a progress box: "[=====>      ]  1.2MB/3.4MB", the bar as wide
// as the width allows (none below 60 columns), or the amount alone
// when the total is unknown. A zero progress is "".
func Bar(p *jsonstream.Progress, width int) string {
	if p == nil || (p.Current <= 0 && p.Total <= 0) {
		return ""
	}
	current := max(p.Current, 0)
	cur := format.HumanSize(float64(current))
	if p.HideCounts {
		cur = ""
	}
	if p.Units != "" && p.Units != "bytes" {
		cur = fmt.Sprintf("%d %s", current, p.Units)
	}
	if p.Total <= 0 {
		return fmt.Sprintf("%8s", cur)
	}
	box := 0
	switch {
	case width > 110:
		box = 50
	case width >= 60:
		box = 25
	}
	var b strings.Builder
	if box > 0 {
		done := int(float64(current) / float64(p.Total) * float64(box))
		done = min(max(done, 0), box)
		b.WriteString("[" + strings.Repeat("=", done) + ">" + strings.Repeat(" ", box-done) + "] ")
	}
	if current <= p.Total && !p.HideCounts {
		total := format.HumanSize(float64(p.Total))
		if p.Units != "" && p.Units != "bytes" {
			total = fmt.Sprintf("%d %s", p.Total, p.Units)
		}
		fmt.Fprintf(&b, "%8s/%s", cur, total)
	}
	return strings.TrimRight(b.String(), " ")
}
