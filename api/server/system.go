package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	apiregistry "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-dev/berth/api/types"
	"github.com/berth-dev/berth/image"
)

// SystemInfo is what GET /info and GET /version tell about the daemon
// itself: its configuration and identity.
type SystemInfo struct {
	ID             string // the engine ID, lasting across restarts
	DataRoot       string
	StorageDriver  string // "overlayfs" or "native"
	LoggingDriver  string
	DefaultRuntime string
	Runtimes       map[string]string // name → program
	RuntimeVersion string            // of the default runtime
	RuntimeCommit  string
	InitBinary     string // the --init program, as GET /info names it
	Labels         []string
	VolumeDrivers  []string // GET /info's Plugins
	NetworkDrivers []string
	Mirrors        []string
	Insecure       []string
	LiveRestore    bool
	Debug          bool
}

// ImageLister lists the images (image.Store).
type ImageLister interface {
	List(ctx context.Context) ([]image.Named, error)
}

// DiskUser measures the image store (image.Service).
type DiskUser interface {
	DiskUsage(ctx context.Context) (image.Usage, error)
}

// EventSource is the event bus (daemon/events.Bus).
type EventSource interface {
	Subscribe(since time.Time) (past []events.Message, live <-chan events.Message, cancel func())
	Listeners() int
}

// EventPublisher records an event (daemon/events.Bus).
type EventPublisher interface {
	Publish(events.Message)
}

// RegistryLogin checks credentials against a registry (registry.Client).
type RegistryLogin interface {
	Login(ctx context.Context, host, user, pass string) error
}

// ContainerCounter counts containers by state. Until the container
// service exists, GET /info reports none.
type ContainerCounter interface {
	ContainerCounts(ctx context.Context) (total, running, paused, stopped int, err error)
}

// System is the backend of the system routes.
type System struct {
	Info       SystemInfo
	Images     ImageLister
	Usage      DiskUser
	Events     EventSource
	Registry   RegistryLogin
	Containers ContainerCounter // nil: no containers yet
	Store      StoreChecker
	Volumes    VolumeUsage // nil: no volumes in GET /system/df
}

// VolumeUsage describes the volumes with their sizes and reference
// counts (volume.Service).
type VolumeUsage interface {
	DiskUsage(ctx context.Context) ([]volume.Volume, error)
}

// StoreChecker checks the image store and, asked to, repairs it
// (image.Service).
type StoreChecker interface {
	Fsck(ctx context.Context, repair bool) (image.FsckReport, error)
}

// AddSystem adds /_ping, /version, /info, /system/df, /events and /auth.
func (s *Server) AddSystem(sys System) {
	s.handle("GET /_ping", s.ping)
	s.handle("HEAD /_ping", s.ping)
	s.handle("GET /version", func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, s.version(sys.Info))
	})
	s.handle("GET /info", func(w http.ResponseWriter, r *http.Request) error {
		info, err := s.info(r.Context(), sys)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, info)
	})
	s.handle("GET /system/df", func(w http.ResponseWriter, r *http.Request) error {
		return diskUsage(w, r, sys)
	})
	s.handle("GET /events", func(w http.ResponseWriter, r *http.Request) error {
		return s.events(w, r, sys.Events)
	})
	s.handle("POST /auth", func(w http.ResponseWriter, r *http.Request) error {
		return login(w, r, sys.Registry)
	})
	s.handle("POST /system/fsck", func(w http.ResponseWriter, r *http.Request) error {
		return fsck(w, r, sys.Store)
	})
}

func fsck(w http.ResponseWriter, r *http.Request, store StoreChecker) error {
	rep, err := store.Fsck(r.Context(), boolValue(r, "repair"))
	if err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	return writeJSON(w, http.StatusOK, types.FsckResponse{
		Blobs: rep.Blobs, Snapshots: rep.Snapshots,
		Problems: nonNil(rep.Problems), Repaired: nonNil(rep.Repaired),
	})
}

// ping answers GET and HEAD /_ping with the headers clients negotiate
// from.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Builder-Version", "1")
	h.Set("Docker-Experimental", "false")
	h.Set("Swarm", "inactive")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, "OK")
	return err
}

func (s *Server) version(info SystemInfo) system.VersionResponse {
	kernel := kernelVersion()
	v := system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "berth"},
		Version:       s.opts.Version,
		APIVersion:    MaxAPIVersion,
		MinAPIVersion: MinAPIVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GitCommit:     s.opts.Commit,
		GoVersion:     runtime.Version(),
		KernelVersion: kernel,
		Components: []system.ComponentVersion{{
			Name:    "Engine",
			Version: s.opts.Version,
			Details: map[string]string{
				"ApiVersion": MaxAPIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": s.opts.Commit,
				"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH,
				"KernelVersion": kernel, "Experimental": "false", "BuildTime": "",
			},
		}},
	}
	if info.DefaultRuntime != "" {
		v.Components = append(v.Components, system.ComponentVersion{
			Name: info.DefaultRuntime, Version: info.RuntimeVersion,
			Details: map[string]string{"GitCommit": info.RuntimeCommit},
		})
	}
	return v
}

// login answers POST /auth: the credentials are checked against the
// registry and not kept (the client keeps them and sends them with each
// pull and push).
func login(w http.ResponseWriter, r *http.Request, reg RegistryLogin) error {
	var ac apiregistry.AuthConfig
	if err := decodeJSON(r, &ac, false); err != nil {
		return err
	}
	if ac.Username == "" || ac.Password == "" {
		return errorf(errdefs.ErrInvalidArgument, "username and password are required")
	}
	if err := reg.Login(r.Context(), ac.ServerAddress, ac.Username, ac.Password); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiregistry.AuthResponse{Status: "Login Succeeded"})
}
