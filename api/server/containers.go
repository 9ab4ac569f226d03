package server

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/daemon/containers"
)

// ContainerBackend is what the container routes ask of the container
// service (daemon/containers.Service).
type ContainerBackend interface {
	Create(ctx context.Context, name string, req container.CreateRequest) (container.CreateResponse, error)
	Start(ctx context.Context, ref string) error
	Stop(ctx context.Context, ref, signal string, timeout *int) error
	Restart(ctx context.Context, ref, signal string, timeout *int) error
	Kill(ctx context.Context, ref, signal string) error
	Pause(ctx context.Context, ref string) error
	Unpause(ctx context.Context, ref string) error
	Wait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan containers.WaitResult, error)
	Remove(ctx context.Context, ref string, force, volumes bool) error
	List(ctx context.Context, o containers.ListOptions) ([]container.Summary, error)
	Inspect(ctx context.Context, ref string, size bool) (container.InspectResponse, error)
	Rename(ctx context.Context, ref, name string) error
	Resize(ctx context.Context, ref string, height, width uint16) error
	Logs(ctx context.Context, ref string, o containers.LogsOptions) (*containers.LogReader, error)
	Attach(ctx context.Context, ref string, o containers.AttachOptions, open func(tty bool) (containers.AttachStreams, error)) error
	Prune(ctx context.Context, filters map[string][]string) (container.PruneReport, error)
	Top(ctx context.Context, ref, psArgs string) (container.TopResponse, error)
	Stats(ctx context.Context, ref string, stream, oneShot bool, send func(container.StatsResponse) error) error
	Update(ctx context.Context, ref string, u container.UpdateConfig) ([]string, error)
	Changes(ctx context.Context, ref string) ([]container.FilesystemChange, error)
	Export(ctx context.Context, ref string, w io.Writer) error
}

// Containers is the backend of the container routes.
type Containers struct {
	Backend ContainerBackend
	// Exec runs processes in containers; nil leaves the exec routes
	// answering 501.
	Exec ExecBackend
	// Archive copies files in and out of containers (docker cp); nil
	// leaves the archive routes answering 501.
	Archive ArchiveBackend
	// Commit makes images of containers; nil leaves POST /commit
	// answering 501.
	Commit CommitBackend
}

// containerRouter answers the /containers routes.
type containerRouter struct {
	b ContainerBackend
	// done is closed when the server shuts down: it ends attaches, whose
	// request context no longer follows the connection once it is taken
	// over.
	done <-chan struct{}
}

// AddContainers adds the /containers routes (and, with Exec, the exec
// routes, archive and commit when given).
func (s *Server) AddContainers(c Containers) {
	cr := &containerRouter{b: c.Backend, done: s.done}
	s.handle("POST /containers/create", cr.create)
	s.handle("GET /containers/json", cr.list)
	s.handle("POST /containers/prune", cr.prune)
	s.handle("GET /containers/{id}/json", cr.inspect)
	s.handle("POST /containers/{id}/start", cr.start)
	s.handle("POST /containers/{id}/stop", cr.stop)
	s.handle("POST /containers/{id}/restart", cr.restart)
	s.handle("POST /containers/{id}/kill", cr.kill)
	s.handle("POST /containers/{id}/pause", cr.pause)
	s.handle("POST /containers/{id}/unpause", cr.unpause)
	s.handle("POST /containers/{id}/wait", cr.wait)
	s.handle("DELETE /containers/{id}", cr.remove)
	s.handle("POST /containers/{id}/rename", cr.rename)
	s.handle("POST /containers/{id}/resize", cr.resize)
	s.handle("GET /containers/{id}/logs", cr.logs)
	s.handle("POST /containers/{id}/attach", cr.attach)
	s.handle("GET /containers/{id}/top", cr.top)
	s.handle("GET /containers/{id}/stats", cr.stats)
	s.handle("POST /containers/{id}/update", cr.update)
	s.handle("GET /containers/{id}/changes", cr.changes)
	s.handle("GET /containers/{id}/export", cr.export)
	if c.Exec != nil {
		s.addExec(c.Exec)
	}
	if c.Archive != nil {
		s.addArchive(c.Archive)
	}
	if c.Commit != nil {
		s.addCommit(c.Commit)
	}
}

// ContainerImageUsers adapts the container service to what the image
// routes ask (ImageUsers), so that removing an image in use is refused.
func ContainerImageUsers(b interface {
	ContainersUsing(ctx context.Context, id digest.Digest) ([]containers.ImageUser, error)
}) ImageUsers {
	return imageUsers{b}
}

type imageUsers struct {
	b interface {
		ContainersUsing(ctx context.Context, id digest.Digest) ([]containers.ImageUser, error)
	}
}

func (u imageUsers) ContainersUsing(ctx context.Context, id digest.Digest) ([]ImageUser, error) {
	users, err := u.b.ContainersUsing(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]ImageUser, len(users))
	for i, x := range users {
		out[i] = ImageUser{ID: x.ID, Running: x.Running}
	}
	return out, nil
}

func (cr *containerRouter) start(w http.ResponseWriter, r *http.Request) error {
	if err := cr.b.Start(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopQuery reads the "t" and "signal" of stop and restart.
func stopQuery(r *http.Request) (signal string, timeout *int, err error) {
	if t := r.URL.Query().Get("t"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return "", nil, errorf(errdefs.ErrInvalidArgument, "invalid value for t: %q is not an integer", t)
		}
		timeout = &n
	}
	if !versionBefore(r.Context(), "1.42") {
		signal = r.URL.Query().Get("signal")
	}
	return signal, timeout, nil
}

func (cr *containerRouter) stop(w http.ResponseWriter, r *http.Request) error {
	sig, t, err := stopQuery(r)
	if err != nil {
		return err
	}
	if err := cr.b.Stop(r.Context(), r.PathValue("id"), sig, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) restart(w http.ResponseWriter, r *http.Request) error {
	sig, t, err := stopQuery(r)
	if err != nil {
		return err
	}
	if err := cr.b.Restart(r.Context(), r.PathValue("id"), sig, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) kill(w http.ResponseWriter, r *http.Request) error {
	if err := cr.b.Kill(r.Context(), r.PathValue("id"), r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) pause(w http.ResponseWriter, r *http.Request) error {
	if err := cr.b.Pause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) unpause(w http.ResponseWriter, r *http.Request) error {
	if err := cr.b.Unpause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) remove(w http.ResponseWriter, r *http.Request) error {
	if boolValue(r, "link") {
		return errorf(errdefs.ErrNotImplemented, "links are not supported")
	}
	if err := cr.b.Remove(r.Context(), r.PathValue("id"), boolValue(r, "force"), boolValue(r, "v")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) rename(w http.ResponseWriter, r *http.Request) error {
	if err := cr.b.Rename(r.Context(), r.PathValue("id"), r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) resize(w http.ResponseWriter, r *http.Request) error {
	h, wd, err := termSize(r)
	if err != nil {
		return err
	}
	if err := cr.b.Resize(r.Context(), r.PathValue("id"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// untilShutdown returns a context that also ends when done (the
// server's shutdown) closes, for the answers that last as long as a
// container or an exec does.
func untilShutdown(ctx context.Context, done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// wait answers POST /containers/{id}/wait: the headers as soon as the
// waiter is registered (the docker CLI waits for them before it starts
// the container), the status once the condition holds.
func (cr *containerRouter) wait(w http.ResponseWriter, r *http.Request) error {
	cond := container.WaitCondition(r.URL.Query().Get("condition"))
	if versionBefore(r.Context(), "1.30") {
		cond = ""
	}
	ch, err := cr.b.Wait(r.Context(), r.PathValue("id"), cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	var res containers.WaitResult
	select {
	case r, ok := <-ch:
		if !ok {
			return nil
		}
		res = r
	case <-cr.done:
		return nil // shutdown: the client sees the stream end
	}
	resp := container.WaitResponse{StatusCode: int64(res.StatusCode)}
	if res.Error != "" {
		resp.Error = &container.WaitExitError{Message: res.Error}
	}
	return writeJSONBody(w, resp)
}

func (cr *containerRouter) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	report, err := cr.b.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

func (cr *containerRouter) top(w http.ResponseWriter, r *http.Request) error {
	resp, err := cr.b.Top(r.Context(), r.PathValue("id"), r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// stats answers GET /containers/{id}/stats: a JSON object a second with
// stream (the default), else one.
func (cr *containerRouter) stats(w http.ResponseWriter, r *http.Request) error {
	stream := boolOr(r, "stream", true)
	ctx, cancel := untilShutdown(r.Context(), cr.done)
	defer cancel()
	rc := http.NewResponseController(w)
	started := false
	err := cr.b.Stats(ctx, r.PathValue("id"), stream, boolValue(r, "one-shot"), func(st container.StatsResponse) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		if err := writeJSONBody(w, st); err != nil {
			return err
		}
		return rc.Flush()
	})
	if started {
		return nil
	}
	return err
}

func (cr *containerRouter) update(w http.ResponseWriter, r *http.Request) error {
	var u container.UpdateConfig
	if err := decodeJSON(r, &u, false); err != nil {
		return err
	}
	warnings, err := cr.b.Update(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, container.UpdateResponse{Warnings: warnings})
}

func (cr *containerRouter) changes(w http.ResponseWriter, r *http.Request) error {
	out, err := cr.b.Changes(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// export answers GET /containers/{id}/export with a tar stream; the
// status line goes with its first bytes, so a failure before them is an
// error answer.
func (cr *containerRouter) export(w http.ResponseWriter, r *http.Request) error {
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	err := cr.b.Export(r.Context(), r.PathValue("id"), lw)
	if lw.started {
		return nil
	}
	if err != nil {
		return err
	}
	lw.start()
	return nil
}

// lazyWriter sends the headers with the first write.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
}

func (l *lazyWriter) start() {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", l.contentType)
		l.w.WriteHeader(http.StatusOK)
	}
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	l.start()
	return l.w.Write(b)
}
