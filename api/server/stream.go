package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/jsonstream"
)

// message is one message of a progress stream as the docker CLI decodes
// it (jsonstream.Message), with the "progress" and "error" strings that
// API versions before 1.48 also carry.
type message struct {
	Stream          string               `json:"stream,omitempty"`
	Status          string               `json:"status,omitempty"`
	Progress        *jsonstream.Progress `json:"progressDetail,omitempty"`
	ProgressMessage string               `json:"progress,omitempty"`
	ID              string               `json:"id,omitempty"`
	Error           *jsonstream.Error    `json:"errorDetail,omitempty"`
	ErrorMessage    string               `json:"error,omitempty"`
	Aux             any                  `json:"aux,omitempty"`
}

// stream writes a progress stream. The status line and headers go out
// with the first message, so a handler that fails before sending anything
// can still answer with an error status; every message is flushed as it
// is written. Safe for concurrent use.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	legacy  bool // API < 1.48: add the "progress" string
	mu      sync.Mutex
	started bool
	werr    error
}

func newStream(ctx context.Context, w http.ResponseWriter) *stream {
	return &stream{w: w, rc: http.NewResponseController(w), legacy: versionBefore(ctx, "1.48")}
}

// send writes one message. After a write error (the client went away)
// it does nothing and returns that error.
func (s *stream) send(m message) error {
	if s.legacy && m.Progress != nil && m.ProgressMessage == "" && m.Progress.Total > 0 {
		m.ProgressMessage = progressBar(m.Progress.Current, m.Progress.Total)
	}
	if m.Error != nil && m.ErrorMessage == "" {
		m.ErrorMessage = m.Error.Message
	}
	return s.sendValue(m)
}

// sendValue writes any JSON value as the next item of the stream.
func (s *stream) sendValue(v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
	}
	if err := writeJSONBody(s.w, v); err != nil {
		s.werr = err
		return err
	}
	if err := s.rc.Flush(); err != nil {
		s.werr = err
	}
	return s.werr
}

// status sends a status line.
func (s *stream) status(id, status string) error {
	return s.send(message{ID: id, Status: status})
}

// begin sends the headers now, for streams whose first message may be
// long in coming.
func (s *stream) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
		s.werr = s.rc.Flush()
	}
}

// finish ends a handler: with no error, nothing; with an error before
// the stream started, the error (answered with its status); after, the
// error as the stream's last message.
func (s *stream) finish(err error) error {
	if err == nil {
		return nil
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return err
	}
	s.send(message{Error: &jsonstream.Error{Message: errorText(err)}})
	return nil
}

// progressBar draws dockerd's bar: "[=====>      ]  1.2MB/3.4MB".
func progressBar(current, total int64) string {
	const width = 50
	n := 0
	if total > 0 {
		n = int(float64(width) * float64(current) / float64(total))
	}
	n = min(max(n, 0), width)
	bar := strings.Repeat("=", n)
	if n < width {
		bar += ">" + strings.Repeat(" ", width-n-1)
	}
	return fmt.Sprintf("[%s] %8s/%s", bar, humanSize(current), humanSize(total))
}

// humanSize writes a size in decimal units with four significant digits,
// as docker does: "1.234MB".
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
