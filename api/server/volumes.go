package server

import (
	"bufio"
	"context"
	"io"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"
)

// VolumeBackend is what the volume routes ask of the volume service
// (volume.Service).
type VolumeBackend interface {
	Create(ctx context.Context, req volume.CreateRequest) (volume.Volume, error)
	Get(ctx context.Context, name string) (volume.Volume, error)
	List(ctx context.Context, filters map[string][]string) ([]volume.Volume, error)
	Remove(ctx context.Context, name string, force bool) error
	Prune(ctx context.Context, filters map[string][]string) (volume.PruneReport, error)
	// Export and Import are berth's extensions.
	Export(ctx context.Context, name string, w io.Writer) error
	Import(ctx context.Context, name string, r io.Reader) error
}

type volumeRouter struct{ b VolumeBackend }

// AddVolumes adds the /volumes routes, and berth's export and import
// extensions: GET /volumes/{name}/export (a tar stream with a checksum
// manifest, see volume) and PUT /volumes/{name}/import.
func (s *Server) AddVolumes(b VolumeBackend) {
	vr := &volumeRouter{b: b}
	s.handle("GET /volumes", vr.list)
	s.handle("POST /volumes/create", vr.create)
	s.handle("POST /volumes/prune", vr.prune)
	s.handle("GET /volumes/{name}", vr.inspect)
	s.handle("DELETE /volumes/{name}", vr.remove)
	s.handle("GET /volumes/{name}/export", vr.export)
	s.handle("PUT /volumes/{name}/import", vr.importVolume)
}

func (vr *volumeRouter) list(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r, "dangling", "driver", "label", "name")
	if err != nil {
		return err
	}
	vols, err := vr.b.List(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, volume.ListResponse{Volumes: vols, Warnings: []string{}})
}

func (vr *volumeRouter) create(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.ClusterVolumeSpec != nil {
		return errorf(errdefs.ErrNotImplemented, "cluster volumes need swarm mode, which berth does not have")
	}
	v, err := vr.b.Create(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

func (vr *volumeRouter) inspect(w http.ResponseWriter, r *http.Request) error {
	v, err := vr.b.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (vr *volumeRouter) remove(w http.ResponseWriter, r *http.Request) error {
	if err := vr.b.Remove(r.Context(), r.PathValue("name"), boolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// prune answers POST /volumes/prune. Before API 1.42 it removed every
// unused volume; since, only anonymous ones unless the filter all=true.
func (vr *volumeRouter) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r, "label", "label!", "all")
	if err != nil {
		return err
	}
	if versionBefore(r.Context(), "1.42") {
		f["all"] = []string{"true"}
	}
	rep, err := vr.b.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// export streams a volume as a tar archive; once the status is sent, a
// failure can only cut the stream, which the manifest's absence then
// tells.
func (vr *volumeRouter) export(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name := r.PathValue("name")
	if _, err := vr.b.Get(ctx, name); err != nil {
		return err
	}
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	bw := bufio.NewWriterSize(lw, 1<<20)
	err := vr.b.Export(ctx, name, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if !lw.started {
			return err
		}
		loggerFrom(ctx).Error("export volume", "volume", name, "error", err)
		panic(http.ErrAbortHandler)
	}
	lw.start()
	return nil
}

func (vr *volumeRouter) importVolume(w http.ResponseWriter, r *http.Request) error {
	if err := vr.b.Import(r.Context(), r.PathValue("name"), bufio.NewReaderSize(r.Body, 1<<20)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
