package containers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
)

// LogsOptions are the query of GET /containers/{id}/logs. Tail < 0 means
// every line; a zero Since or Until does not bound.
type LogsOptions struct {
	Stdout, Stderr bool
	Follow         bool
	Since, Until   time.Time
	Tail           int
}

// LogEntry is one record of a json-file log.
type LogEntry struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	Line   []byte // as written, with its "\n" unless it is a partial record
}

// LogReader reads a container's log. Tty tells how the container wrote it
// (the API sends a terminal's output without stream framing).
type LogReader struct {
	Tty  bool
	s    *Service
	c    *ctr
	o    LogsOptions
	path string
	run  *run // the run a follow ends with; nil: no follow
}

// followPoll is how often a follow looks for new lines.
const followPoll = 100 * time.Millisecond

// maxLogLine bounds one line of a json-file log (a record holds at most
// 16 KiB of output, escaped).
const maxLogLine = 1 << 20

// Logs opens a container's log for reading.
func (s *Service) Logs(ctx context.Context, ref string, o LogsOptions) (*LogReader, error) {
	if !o.Stdout && !o.Stderr {
		return nil, errorf(errdefs.ErrInvalidArgument, "Bad parameters: you must choose at least one stream")
	}
	c, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &LogReader{Tty: c.rec.Config.Tty, s: s, c: c, o: o, path: s.logPath(c.id)}
	if o.Follow && c.sh != nil {
		l.run = c.next
	}
	return l, nil
}

// Each calls fn for each record that passes the options, oldest first;
// when following, it returns once the container has stopped and its log
// is read to the end, or when ctx ends.
func (l *LogReader) Each(ctx context.Context, fn func(LogEntry) error) error {
	files := rotatedFiles(l.path)
	var tail []LogEntry
	keep := func(e LogEntry) error {
		if !l.pass(e) {
			return nil
		}
		if l.o.Tail < 0 {
			return fn(e)
		}
		if l.o.Tail == 0 {
			return nil
		}
		tail = append(tail, e)
		if len(tail) > l.o.Tail {
			tail = tail[1:]
		}
		return nil
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			continue // rotated away meanwhile
		}
		_, err = readRecords(f, nil, keep)
		f.Close()
		if err != nil {
			return err
		}
	}
	cur, err := os.Open(l.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open log of container %s: %w", l.c.id, err)
	}
	var rest []byte
	if cur != nil {
		defer func() { cur.Close() }()
		if rest, err = readRecords(cur, nil, keep); err != nil {
			return err
		}
	}
	for _, e := range tail {
		if err := fn(e); err != nil {
			return err
		}
	}
	if l.run == nil {
		return nil
	}
	emit := func(e LogEntry) error {
		if l.pass(e) {
			return fn(e)
		}
		return nil
	}
	return l.follow(ctx, &cur, rest, emit)
}

// follow reads what is appended to the log, across rotations, until the
// run ends (then to the end of the log) or ctx ends.
func (l *LogReader) follow(ctx context.Context, cur **os.File, rest []byte, emit func(LogEntry) error) error {
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		ended := false
		select {
		case <-ctx.Done():
			return nil
		case <-l.run.done:
			ended = true
		case <-t.C:
		}
		if !l.o.Until.IsZero() && time.Now().After(l.o.Until) {
			ended = true
		}
		var err error
		if *cur != nil {
			if rest, err = readRecords(*cur, rest, emit); err != nil {
				return err
			}
		}
		// A rotation renamed the file we read: finish it, go on with the
		// new one.
		if fi, err := os.Stat(l.path); err == nil && (*cur == nil || !sameFile(*cur, fi)) {
			if *cur != nil {
				if _, err := readRecords(*cur, rest, emit); err != nil {
					return err
				}
				(*cur).Close()
			}
			rest = nil
			if *cur, err = os.Open(l.path); err != nil {
				*cur = nil
				continue
			}
			if rest, err = readRecords(*cur, nil, emit); err != nil {
				return err
			}
		}
		if ended {
			return nil
		}
	}
}

func sameFile(f *os.File, fi os.FileInfo) bool {
	cur, err := f.Stat()
	if err != nil {
		return false
	}
	a, ok1 := cur.Sys().(*syscall.Stat_t)
	b, ok2 := fi.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Ino == b.Ino && a.Dev == b.Dev
}

// pass applies the stream and time bounds.
func (l *LogReader) pass(e LogEntry) bool {
	switch e.Stream {
	case "stdout":
		if !l.o.Stdout {
			return false
		}
	case "stderr":
		if !l.o.Stderr {
			return false
		}
	}
	if !l.o.Since.IsZero() && e.Time.Before(l.o.Since) {
		return false
	}
	if !l.o.Until.IsZero() && e.Time.After(l.o.Until) {
		return false
	}
	return true
}

// rotatedFiles lists the rotated logs beside path (path.1 is the newest),
// oldest first.
func rotatedFiles(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	type numbered struct {
		n int
		p string
	}
	var ns []numbered
	for _, m := range matches {
		if n, err := strconv.Atoi(strings.TrimPrefix(m, path+".")); err == nil && n > 0 {
			ns = append(ns, numbered{n, m})
		}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].n > ns[j].n })
	out := make([]string, len(ns))
	for i, x := range ns {
		out[i] = x.p
	}
	return out
}

// jsonRecord is one line of Docker's json-file format.
type jsonRecord struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// readRecords decodes the complete lines readable from r after the
// incomplete line rest, and returns what is left incomplete. A line that
// does not decode is skipped: a log may end in a torn write.
func readRecords(r io.Reader, rest []byte, fn func(LogEntry) error) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(rest)+len(chunk) > maxLogLine {
			rest = nil // a line this long is no record: drop it
			if err == nil {
				continue
			}
		} else {
			rest = append(rest, chunk...)
		}
		if err == nil {
			line := bytes.TrimSuffix(rest, []byte("\n"))
			var rec jsonRecord
			if json.Unmarshal(line, &rec) == nil {
				if ferr := fn(LogEntry{Stream: rec.Stream, Time: rec.Time, Line: []byte(rec.Log)}); ferr != nil {
					return nil, ferr
				}
			}
			rest = rest[:0]
			continue
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return rest, nil
		}
		return rest, fmt.Errorf("read log: %w", err)
	}
}
