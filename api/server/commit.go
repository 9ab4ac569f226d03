package server

import (
	"context"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/daemon/containers"
)

// CommitBackend is what POST /commit asks of the container service
// (daemon/containers.Service).
type CommitBackend interface {
	Commit(ctx context.Context, ref string, o containers.CommitOptions) (digest.Digest, error)
}

type commitRouter struct{ b CommitBackend }

func (s *Server) addCommit(b CommitBackend) {
	s.handle("POST /commit", commitRouter{b}.commit)
}

// commit answers POST /commit: 201 and the new image's ID.
func (cr commitRouter) commit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var cfg *container.Config
	var body container.Config
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body, true); err != nil {
			return err
		}
		cfg = &body
	}
	ref := q.Get("repo")
	if tag := q.Get("tag"); tag != "" {
		if ref == "" {
			return errorf(errdefs.ErrInvalidArgument, "tag %s given without a repository", tag)
		}
		ref += ":" + tag
	}
	id, err := cr.b.Commit(r.Context(), q.Get("container"), containers.CommitOptions{
		Ref: ref, Author: q.Get("author"), Comment: q.Get("comment"), Changes: q["changes"],
		Pause: boolOr(r, "pause", true), Config: cfg,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CommitResponse{ID: id.String()})
}
