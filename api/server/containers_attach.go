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
// connection (HTTP upgrade, as dockerd): "101 UPGRADED" when the client
// asked to upgrade, else "200 OK", then the container's output one way
// and the client's input the other. Errors before the takeover get a
// normal error answer; after it, the connection is closed.
func (cr *containerRouter) attach(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := containers.AttachOptions{
		Stream: boolValue(r, "stream"), Logs: boolValue(r, "logs"),
		Stdin: boolValue(r, "stdin"), Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"),
		DetachKeys: q.Get("detachKeys"),
	}
	upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "tcp") || strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
	var conn net.Conn
	open := func(tty bool) (containers.AttachStreams, error) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return containers.AttachStreams{}, fmt.Errorf("attach: take over the connection: %w", err)
		}
		conn = c
		c.SetDeadline(time.Time{})
		ct := outputType(r, tty)
		if upgrade {
			fmt.Fprintf(c, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ct)
		} else {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ct)
		}
		// What the client sent after its request may already sit in the
		// server's buffer: read through it.
		return containers.AttachStreams{In: brw.Reader, Out: c}, nil
	}
	// A client that sends no input may close its side of the connection
	// at once, which cancels the request's context: the attach lasts
	// until the container exits, the client breaks off or the server
	// shuts down.
	ctx, cancel := cr.untilShutdown(context.WithoutCancel(r.Context()))
	defer cancel()
	err := cr.b.Attach(ctx, r.PathValue("id"), opts, open)
	if conn == nil {
		return err
	}
	if err != nil && !errors.Is(err, containers.ErrDetached) {
		loggerFrom(r.Context()).Debug("attach ended", "error", err)
	}
	conn.Close()
	return nil
}
