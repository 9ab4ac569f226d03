package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Options configure a Server.
type Options struct {
	Version string // berthd's version, for the Server header and GET /version
	Commit  string
	Logger  *slog.Logger // nil: slog.Default()
}

// Server is the Docker Engine API over net/http. Make one with New, add
// routers (AddSystem, AddImages, ...), then Serve.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	http *http.Server

	// done is closed when shutdown begins: endless streams (events) end
	// so that the server can drain.
	done     chan struct{}
	doneOnce sync.Once
	// base is the parent of every request's context; cancelled when
	// draining took too long.
	base       context.Context
	cancelBase context.CancelFunc
	inflight   sync.WaitGroup

	// patterns are the routes registered; fallbacks are registered at
	// the first request, for the patterns no router took.
	patterns      map[string]bool
	fallbacksOnce sync.Once
}

// handlerFunc is a route's handler: it answers, or returns an error that
// the server answers with the error's status.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// notYet lists the API's paths whose routers berthd does not have yet:
// they answer 501 unless a router registers the same or more specific
// patterns.
var notYet = []string{"/containers/", "/exec/", "/networks", "/networks/", "/volumes", "/volumes/",
	"/build", "/build/", "/commit", "/plugins", "/plugins/", "/session", "/grpc", "/distribution/",
	"/swarm", "/swarm/", "/nodes", "/nodes/", "/services", "/services/", "/tasks", "/tasks/",
	"/secrets", "/secrets/", "/configs", "/configs/"}

// New returns a server with no routers yet. Those added by AddSystem,
// AddImages (and later routers) answer their routes; the others get
// fallbacks: 501 for the API's unimplemented paths, 404 "page not found"
// for the rest.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), done: make(chan struct{}), patterns: map[string]bool{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

// addFallbacks registers, once, the answers of the routes no router
// took.
func (s *Server) addFallbacks() {
	s.fallbacksOnce.Do(func() {
		notImplemented := func(w http.ResponseWriter, r *http.Request) error {
			return errorf(errdefs.ErrNotImplemented, "not implemented yet")
		}
		s.addEmptyPrunes()
		for _, p := range notYet {
			s.fallback(p, notImplemented)
		}
		// docker inspect NAME asks for a container first and moves on to
		// images only when there is no such container.
		s.fallback("GET /containers/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
			if name, ok := strings.CutSuffix(r.PathValue("rest"), "/json"); ok && name != "" {
				return errorf(errdefs.ErrNotFound, "No such container: %s", name)
			}
			return errorf(errdefs.ErrNotImplemented, "not implemented yet")
		})
		s.fallback("/", func(w http.ResponseWriter, r *http.Request) error {
			return errorf(errdefs.ErrNotFound, "page not found")
		})
	})
}

// fallback registers h for pattern unless a router took the pattern or
// one that overlaps it (http.ServeMux refuses such a registration with a
// panic): the router's answer wins.
func (s *Server) fallback(pattern string, h handlerFunc) {
	if s.patterns[pattern] {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Debug("fallback route left out", "pattern", pattern, "reason", r)
		}
	}()
	s.handle(pattern, h)
}

// handle registers a route.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.patterns[pattern] = true
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

// ServeHTTP runs the middleware (headers, version, logging) and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.addFallbacks()
	s.inflight.Add(1)
	defer s.inflight.Done()
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	h := w.Header()
	h.Set("Server", fmt.Sprintf("berthd/%s (%s)", s.opts.Version, runtime.GOOS))
	h.Set("Api-Version", MaxAPIVersion)
	h.Set("Ostype", runtime.GOOS)
	r = r.WithContext(withLogger(r.Context(), s.log))
	r2, err := versioned(r)
	if err != nil {
		writeError(rec, r, err)
	} else {
		s.mux.ServeHTTP(rec, r2)
	}
	s.log.Debug("api request", "method", r.Method, "path", r.URL.Path, "status", rec.code(), "duration", time.Since(start))
}

// statusRecorder remembers the status for the request log; Unwrap lets
// http.ResponseController reach the flusher and hijacker beneath.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Serve serves the API on each listener until Shutdown. It returns
// after Shutdown, or with the first listener's failure.
func (s *Server) Serve(listeners ...net.Listener) error {
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- s.http.Serve(l) }()
	}
	for range listeners {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

// Shutdown stops accepting connections, ends event streams, and waits
// for the requests in flight until ctx is done; then it cancels them and
// waits for their handlers to return (for at most grace), so that the
// services behind them can be closed.
func (s *Server) Shutdown(ctx context.Context, grace time.Duration) error {
	s.doneOnce.Do(func() { close(s.done) })
	err := s.http.Shutdown(ctx)
	s.cancelBase()
	s.http.Close()
	finished := make(chan struct{})
	go func() { s.inflight.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(grace):
		return fmt.Errorf("requests still running after shutdown: %w", context.DeadlineExceeded)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("requests cancelled at shutdown: %w", err)
	}
	return err
}
