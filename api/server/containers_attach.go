package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/daemon/containers"
)

// attach answers POST /containers/{id}/attach by taking over the
// connection (see hijacker); errors before the takeover get a normal
// error answer, after it the connection is closed.
func (cr *containerRouter) attach(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := containers.AttachOptions{
		Stream: boolValue(r, "stream"), Logs: boolValue(r, "logs"),
		Stdin: boolValue(r, "stdin"), Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"),
		DetachKeys: q.Get("detachKeys"),
	}
	h := &hijacker{w: w, r: r}
	// A client that sends no input may close its side of the connection
	// at once, which cancels the request's context: the attach lasts
	// until the container exits, the client breaks off or the server
	// shuts down.
	ctx, cancel := untilShutdown(context.WithoutCancel(r.Context()), cr.done)
	defer cancel()
	return h.finish(cr.b.Attach(ctx, r.PathValue("id"), opts, h.open))
}

// hijacker takes over a request's connection, as dockerd does for attach
// and exec: "101 UPGRADED" when the client asked to upgrade, else
// "200 OK", with the content type of the output; then the output goes one
// way and the client's input the other.
type hijacker struct {
	w    http.ResponseWriter
	r    *http.Request
	conn net.Conn
}

func (h *hijacker) open(tty bool) (containers.AttachStreams, error) {
	c, brw, err := http.NewResponseController(h.w).Hijack()
	if err != nil {
		return containers.AttachStreams{}, fmt.Errorf("take over the connection: %w", err)
	}
	h.conn = c
	c.SetDeadline(time.Time{})
	ct := outputType(h.r, tty)
	upgrade := strings.EqualFold(h.r.Header.Get("Upgrade"), "tcp") || strings.Contains(strings.ToLower(h.r.Header.Get("Connection")), "upgrade")
	if upgrade {
		fmt.Fprintf(c, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ct)
	} else {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ct)
	}
	// What the client sent after its request may already sit in the
	// server's buffer: read through it.
	return containers.AttachStreams{In: brw.Reader, Out: c}, nil
}

// finish ends a handler that may have taken over its connection: before
// the takeover err is answered as usual, after it the connection closes.
func (h *hijacker) finish(err error) error {
	if h.conn == nil {
		return err
	}
	if err != nil && !errors.Is(err, containers.ErrDetached) {
		loggerFrom(h.r.Context()).Debug("stream ended", "error", err)
	}
	h.conn.Close()
	return nil
}
