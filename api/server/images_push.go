package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
)

// pushResult is the aux message that ends each pushed tag.
type pushResult struct {
	Tag    string
	Digest string
	Size   int64
}

// push answers POST /images/{name}/push?tag=TAG with docker push's
// progress. Without a tag (and none in the name) every tag of the
// repository goes.
func (ir *imageRouter) push(w http.ResponseWriter, r *http.Request, name string) error {
	ctx, err := withRequestAuth(r)
	if err != nil {
		return err
	}
	tag := r.URL.Query().Get("tag")
	ref, err := withTag(name, tag)
	if err != nil {
		return err
	}
	refs := []image.Reference{ref}
	explicit := tag != "" || strings.LastIndex(name, ":") > strings.LastIndex(name, "/") || strings.Contains(name, "@")
	if !explicit {
		if refs, err = ir.repoTags(r, ref.Repository); err != nil {
			return err
		}
	}
	configs := map[string]bool{}
	for _, rf := range refs {
		img, err := ir.Store.Get(ctx, rf.Name())
		if err != nil {
			if errdefs.IsNotFound(err) {
				return withMessage(err, "An image does not exist locally with the tag: "+image.Familiar(rf.Repository))
			}
			return err
		}
		configs[shortHex(img.Config.Digest)] = true
	}
	st := newStream(ctx, w)
	st.status("", "The push refers to repository ["+ref.Repository+"]")
	progress := func(p image.Progress) {
		if configs[p.ID] {
			return // docker push shows layers only
		}
		m := message{ID: p.ID, Status: p.Status, Progress: &jsonstream.Progress{}}
		if p.Status == registry.StatusPushing || p.Status == registry.StatusDownloading {
			m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
		}
		st.send(m)
	}
	for _, rf := range refs {
		desc, err := ir.Service.Push(ctx, rf.String(), progress)
		if err != nil {
			return st.finish(err)
		}
		id := rf.Tag
		if rf.Digest != "" {
			id = rf.Digest
		}
		st.status("", fmt.Sprintf("%s: digest: %s size: %d", id, desc.Digest, desc.Size))
		st.send(message{Progress: &jsonstream.Progress{}, Aux: pushResult{Tag: id, Digest: desc.Digest.String(), Size: desc.Size}})
		ir.publish(events.ActionPush, rf.Familiar(), image.Familiar(rf.Repository), nil)
	}
	return nil
}

// repoTags lists the tagged references of a repository, for a push of
// all its tags.
func (ir *imageRouter) repoTags(r *http.Request, repo string) ([]image.Reference, error) {
	imgs, err := ir.Store.List(r.Context())
	if err != nil {
		return nil, err
	}
	var out []image.Reference
	for _, img := range imgs {
		for _, n := range img.Names {
			if rf, err := image.ParseReference(n); err == nil && rf.Repository == repo && rf.Digest == "" {
				out = append(out, rf)
			}
		}
	}
	if len(out) == 0 {
		return nil, errorf(errdefs.ErrNotFound, "An image does not exist locally with the tag: %s", image.Familiar(repo))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out, nil
}
