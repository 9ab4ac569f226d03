package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/jsonstream"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image"
)

// create answers POST /images/create: a pull (fromImage) or an import
// (fromSrc).
func (ir *imageRouter) create(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	switch {
	case q.Get("fromImage") != "":
		return ir.pull(w, r)
	case q.Get("fromSrc") != "":
		return ir.importImage(w, r)
	}
	return errorf(errdefs.ErrInvalidArgument, "fromImage or fromSrc is required")
}

// pull answers POST /images/create?fromImage=NAME&tag=TAG with docker
// pull's progress: "Pulling from", a line per layer, the digest and
// whether the image changed.
func (ir *imageRouter) pull(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref, err := withTag(q.Get("fromImage"), q.Get("tag"))
	if err != nil {
		return err
	}
	platform, err := parsePlatform(q.Get("platform"))
	if err != nil {
		return err
	}
	ctx, err := withRequestAuth(r)
	if err != nil {
		return err
	}
	before, _ := ir.Store.Get(ctx, ref.Name())
	st := newStream(ctx, w)
	id := ref.Tag
	if ref.Digest != "" {
		id = ref.Digest
	}
	_, repoPath, _ := strings.Cut(ref.Repository, "/")
	started := false
	progress := func(p image.Progress) {
		if !started {
			started = true
			st.status(id, "Pulling from "+repoPath)
		}
		if strings.HasPrefix(p.Status, "Digest: ") {
			st.status("", p.Status)
			return
		}
		st.send(message{ID: p.ID, Status: p.Status, Progress: &jsonstream.Progress{Current: p.Current, Total: p.Total}})
	}
	img, err := ir.Service.Pull(ctx, ref.String(), image.PullOptions{Platform: platform, Progress: serialize(progress), Concurrency: ir.PullConcurrency})
	if errdefs.IsUnauthorized(err) || errdefs.IsPermissionDenied(err) {
		// As dockerd words it, and not 401: the docker CLI answers a 401
		// to a pull by prompting for a password.
		err = withMessage(errdefs.ErrNotFound, fmt.Sprintf("pull access denied for %s, repository does not exist or may require 'docker login': %s",
			image.Familiar(ref.Repository), errorText(err)))
	}
	if err != nil {
		return st.finish(err)
	}
	if before.ID == img.ID {
		st.status("", "Status: Image is up to date for "+ref.Familiar())
	} else {
		st.status("", "Status: Downloaded newer image for "+ref.Familiar())
	}
	ir.publish(events.ActionPull, ref.Familiar(), image.Familiar(ref.Repository), ir.labelsOf(ctx, img))
	return nil
}

// serialize makes a progress callback safe for the concurrent layer
// downloads of one pull.
func serialize(fn func(image.Progress)) func(image.Progress) {
	ch := make(chan struct{}, 1)
	return func(p image.Progress) {
		ch <- struct{}{}
		defer func() { <-ch }()
		fn(p)
	}
}

// parsePlatform reads OS[/ARCH[/VARIANT]]; empty is the host's.
func parsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return ocispec.Platform{}, nil
	}
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, errorf(errdefs.ErrInvalidArgument, "invalid platform %q: want os[/arch[/variant]]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: image.DefaultPlatform().Architecture}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	if p.OS != "linux" {
		return ocispec.Platform{}, errorf(errdefs.ErrInvalidArgument, "operating system %q is not supported: only linux images run here", p.OS)
	}
	return p, nil
}

// importImage answers POST /images/create?fromSrc=-: the body is a
// rootfs tarball that becomes a one-layer image, named repo[:tag], with
// the Dockerfile-like changes applied to its config. The answer is the
// new image's ID, as docker import prints it.
func (ir *imageRouter) importImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "-" {
		return errorf(errdefs.ErrNotImplemented, "importing from a URL is not supported: send the tarball as the request body (fromSrc=-)")
	}
	name := q.Get("repo")
	if name != "" {
		ref, err := withTag(name, q.Get("tag"))
		if err != nil {
			return err
		}
		name = ref.String()
	}
	if _, err := parsePlatform(q.Get("platform")); err != nil {
		return err
	}
	ctx := r.Context()
	img, err := ir.Service.Import(ctx, r.Body, image.ImportOptions{Ref: name, Changes: q["changes"], Message: q.Get("message")})
	if err != nil {
		return err
	}
	st := newStream(ctx, w)
	st.status("", img.ID.String())
	ir.publish(events.ActionImport, img.ID.String(), img.ID.String(), ir.labelsOf(ctx, img))
	return nil
}
