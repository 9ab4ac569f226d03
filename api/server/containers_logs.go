package server

import (
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/daemon/containers"
)

// Content types of container output: raw with a terminal (and for API
// versions before 1.42), the 8-byte framed stream without one.
const (
	rawStream         = "application/vnd.docker.raw-stream"
	multiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// timestampFormat is how logs --timestamps writes the time: RFC 3339 with
// nanoseconds always nine digits wide.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// outputType is the content type of a container's output stream.
func outputType(r *http.Request, tty bool) string {
	if tty || versionBefore(r.Context(), "1.42") {
		return rawStream
	}
	return multiplexedStream
}

// logs answers GET /containers/{id}/logs.
func (cr *containerRouter) logs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	since, err := parseTimestamp(q.Get("since"))
	if err != nil {
		return err
	}
	until, err := parseTimestamp(q.Get("until"))
	if err != nil {
		return err
	}
	tail := -1
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return errorf(errdefs.ErrInvalidArgument, "invalid value for tail: %q", t)
		}
		if n >= 0 {
			tail = n
		}
	}
	follow := boolValue(r, "follow")
	ctx, cancel := untilShutdown(r.Context(), cr.done)
	defer cancel()
	lr, err := cr.b.Logs(ctx, r.PathValue("id"), containers.LogsOptions{
		Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"), Follow: follow,
		Since: since, Until: until, Tail: tail,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", outputType(r, lr.Tty))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	timestamps := boolValue(r, "timestamps")
	err = lr.Each(ctx, func(e containers.LogEntry) error {
		line := e.Line
		if timestamps {
			line = append([]byte(e.Time.Format(timestampFormat)+" "), line...)
		}
		if err := writeOutput(w, lr.Tty, e.Stream, line); err != nil {
			return err
		}
		if follow {
			return rc.Flush()
		}
		return nil
	})
	if err != nil {
		// The status line is out: all that is left is to end the stream.
		loggerFrom(r.Context()).Debug("container logs ended", "error", err)
	}
	return nil
}

// writeOutput writes container output: raw with a terminal, else as a
// frame of the multiplexed stream (stream 1 stdout, 2 stderr; 0, 0, 0;
// big-endian length).
func writeOutput(w io.Writer, tty bool, stream string, data []byte) error {
	if tty {
		_, err := w.Write(data)
		return err
	}
	frame := make([]byte, 8+len(data))
	frame[0] = 1
	if strings.EqualFold(stream, "stderr") {
		frame[0] = 2
	}
	binary.BigEndian.PutUint32(frame[4:], uint32(len(data)))
	copy(frame[8:], data)
	_, err := w.Write(frame)
	return err
}
