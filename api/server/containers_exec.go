package server

import (
	"context"
	"net/http"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/containers"
)

// ExecBackend is what the exec routes ask of the container service.
type ExecBackend interface {
	ExecCreate(ctx context.Context, ref string, req container.ExecCreateRequest) (string, error)
	ExecStart(ctx context.Context, id string, o containers.ExecStartOptions, open func(tty bool) (containers.AttachStreams, error)) error
	ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error)
	ExecResize(ctx context.Context, id string, height, width uint16) error
}

// execRouter answers the exec routes.
type execRouter struct {
	b    ExecBackend
	done <-chan struct{}
}

// addExec adds POST /containers/{id}/exec and the /exec routes.
func (s *Server) addExec(b ExecBackend) {
	er := &execRouter{b: b, done: s.done}
	s.handle("POST /containers/{id}/exec", er.create)
	s.handle("POST /exec/{id}/start", er.start)
	s.handle("GET /exec/{id}/json", er.inspect)
	s.handle("POST /exec/{id}/resize", er.resize)
}

func (er *execRouter) create(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecCreateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	id, err := er.b.ExecCreate(r.Context(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, common.IDResponse{ID: id})
}

// start answers POST /exec/{id}/start: 200 at once when detached, else
// the connection taken over as for attach.
func (er *execRouter) start(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecStartRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	o := containers.ExecStartOptions{Detach: req.Detach, ConsoleSize: req.ConsoleSize}
	if req.Detach {
		if err := er.b.ExecStart(r.Context(), r.PathValue("id"), o, nil); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	h := &hijacker{w: w, r: r}
	ctx, cancel := untilShutdown(context.WithoutCancel(r.Context()), er.done)
	defer cancel()
	return h.finish(er.b.ExecStart(ctx, r.PathValue("id"), o, h.open))
}

func (er *execRouter) inspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := er.b.ExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (er *execRouter) resize(w http.ResponseWriter, r *http.Request) error {
	h, wd, err := termSize(r)
	if err != nil {
		return err
	}
	if err := er.b.ExecResize(r.Context(), r.PathValue("id"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}
