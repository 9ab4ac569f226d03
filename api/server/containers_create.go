package server

import (
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// create answers POST /containers/create.
func (cr *containerRouter) create(w http.ResponseWriter, r *http.Request) error {
	var req container.CreateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Config == nil {
		return errorf(errdefs.ErrInvalidArgument, "config cannot be empty in order to create a container")
	}
	if h := req.Config.Healthcheck; h != nil && versionBefore(r.Context(), "1.44") {
		h.StartInterval = 0 // a field of API 1.44, ignored before as dockerd does
	}
	if hc := req.HostConfig; hc != nil && versionBefore(r.Context(), "1.45") {
		for _, m := range hc.Mounts {
			if m.VolumeOptions != nil && m.VolumeOptions.Subpath != "" {
				return errorf(errdefs.ErrInvalidArgument, "volume subpath needs API v1.45 or newer")
			}
		}
	}
	if p := r.URL.Query().Get("platform"); p != "" {
		os, _, _ := strings.Cut(p, "/")
		if os != "linux" {
			return errorf(errdefs.ErrInvalidArgument, "unsupported platform %q: berth runs linux containers", p)
		}
	}
	resp, err := cr.b.Create(r.Context(), r.URL.Query().Get("name"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}
