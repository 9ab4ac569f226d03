package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/containers"
)

// ArchiveBackend is what the archive routes (docker cp) ask of the
// container service (daemon/containers.Service).
type ArchiveBackend interface {
	StatPath(ctx context.Context, ref, path string) (container.PathStat, error)
	ArchivePath(ctx context.Context, ref, path string, start func(container.PathStat) (io.Writer, error)) error
	ExtractToDir(ctx context.Context, ref, path string, r io.Reader, o containers.ExtractOptions) error
}

// archiveRouter answers /containers/{id}/archive.
type archiveRouter struct{ b ArchiveBackend }

// addArchive adds the archive routes.
func (s *Server) addArchive(b ArchiveBackend) {
	ar := archiveRouter{b}
	s.handle("HEAD /containers/{id}/archive", ar.stat)
	s.handle("GET /containers/{id}/archive", ar.get)
	s.handle("PUT /containers/{id}/archive", ar.put)
}

// pathStatHeader is where the archive routes put the path's stat:
// base64 of its JSON.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func setPathStat(w http.ResponseWriter, st container.PathStat) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(data))
	return nil
}

func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", errorf(errdefs.ErrInvalidArgument, "Path cannot be empty")
	}
	return p, nil
}

func (ar archiveRouter) stat(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := ar.b.StatPath(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// get answers with the stat header and the tar stream; a failure after
// the first bytes can only cut the stream short.
func (ar archiveRouter) get(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	started := false
	err = ar.b.ArchivePath(r.Context(), r.PathValue("id"), p, func(st container.PathStat) (io.Writer, error) {
		if err := setPathStat(w, st); err != nil {
			return nil, err
		}
		started = true
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		return w, nil
	})
	if started {
		if err != nil {
			loggerFrom(r.Context()).Warn("copy from container cut short", "container", r.PathValue("id"), "path", p, "error", err)
		}
		return nil
	}
	return err
}

func (ar archiveRouter) put(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	o := containers.ExtractOptions{
		NoOverwriteDirNonDir: boolValue(r, "noOverwriteDirNonDir"),
		CopyUIDGID:           boolValue(r, "copyUIDGID"),
	}
	if err := ar.b.ExtractToDir(r.Context(), r.PathValue("id"), p, r.Body, o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
