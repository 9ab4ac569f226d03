package server

import (
	"context"
	match "github.com/berth-dev/berth/internal/filters"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	imagetypes "github.com/moby/moby/api/types/image"

	"github.com/berth-dev/berth/image"
)

// summary is an image as GET /images/json lists it.
func summary(img image.Named, labels map[string]string) imagetypes.Summary {
	tags, digests := names(img)
	target := img.Target
	return imagetypes.Summary{
		ID:          img.ID.String(),
		Created:     unixSeconds(img.Created),
		Size:        img.Size,
		SharedSize:  -1,
		Containers:  -1,
		Labels:      labels,
		RepoTags:    tags,
		RepoDigests: digests,
		Descriptor:  &target,
	}
}

func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// summaryV143 is a summary as API versions before 1.44 send it.
type summaryV143 struct {
	imagetypes.Summary
	VirtualSize int64 `json:"VirtualSize"`
}

// list answers GET /images/json. Filters: dangling, label, before,
// since, until, reference.
func (ir *imageRouter) list(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := filters(r, "dangling", "label", "before", "since", "until", "reference")
	if err != nil {
		return err
	}
	imgs, err := ir.Store.List(ctx)
	if err != nil {
		return err
	}
	keep, err := ir.imageFilter(ctx, f)
	if err != nil {
		return err
	}
	out := []imagetypes.Summary{}
	for _, img := range imgs {
		labels := ir.labelsOf(ctx, img)
		s := summary(img, labels)
		if !keep(img, &s, labels) {
			continue
		}
		if ir.Users != nil {
			users, err := ir.Users.ContainersUsing(ctx, img.ID)
			if err != nil {
				return err
			}
			s.Containers = int64(len(users))
		}
		out = append(out, s)
	}
	switch {
	case versionBefore(ctx, "1.44"):
		old := make([]summaryV143, len(out))
		for i, s := range out {
			if versionBefore(ctx, "1.43") && len(s.RepoTags) == 0 && len(s.RepoDigests) == 0 {
				s.RepoTags, s.RepoDigests = []string{"<none>:<none>"}, []string{"<none>@<none>"}
			}
			s.Descriptor = nil
			old[i] = summaryV143{Summary: s, VirtualSize: s.Size}
		}
		return writeJSON(w, http.StatusOK, old)
	case versionBefore(ctx, "1.48"):
		for i := range out {
			out[i].Descriptor = nil
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageFilter compiles the list filters into a predicate. It may narrow
// a summary's RepoTags and RepoDigests to the references that match, as
// dockerd does for the reference filter.
func (ir *imageRouter) imageFilter(ctx context.Context, f map[string][]string) (func(image.Named, *imagetypes.Summary, map[string]string) bool, error) {
	var dangling *bool
	for _, v := range f["dangling"] {
		b, err := match.Bool("dangling", v)
		if err != nil {
			return nil, err
		}
		dangling = &b
	}
	var before, since time.Time
	for key, dst := range map[string]*time.Time{"before": &before, "since": &since} {
		for _, ref := range f[key] {
			img, err := ir.get(ctx, ref)
			if err != nil {
				return nil, err
			}
			*dst = img.Created
		}
	}
	var until time.Time
	for _, v := range f["until"] {
		t, err := match.Until(v, time.Now())
		if err != nil {
			return nil, err
		}
		until = t
	}
	for _, p := range f["reference"] {
		if _, err := path.Match(p, ""); err != nil {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'reference=%s': %v", p, err)
		}
	}
	return func(img image.Named, s *imagetypes.Summary, labels map[string]string) bool {
		if dangling != nil && (len(s.RepoTags) == 0) != *dangling {
			return false
		}
		if !before.IsZero() && !img.Created.Before(before) {
			return false
		}
		if !since.IsZero() && !img.Created.After(since) {
			return false
		}
		if !until.IsZero() && !img.Created.Before(until) {
			return false
		}
		for _, l := range f["label"] {
			k, v, hasValue := strings.Cut(l, "=")
			got, ok := labels[k]
			if !ok || hasValue && got != v {
				return false
			}
		}
		if pats := f["reference"]; len(pats) > 0 {
			s.RepoTags = matchRefs(s.RepoTags, pats)
			s.RepoDigests = matchRefs(s.RepoDigests, pats)
			if len(s.RepoTags) == 0 && len(s.RepoDigests) == 0 {
				return false
			}
		}
		return true
	}, nil
}

// matchRefs keeps the familiar references that match a pattern, whole or
// by their name without tag or digest (Docker's FamiliarMatch).
func matchRefs(refs, patterns []string) []string {
	out := []string{}
	for _, ref := range refs {
		name, _, _ := strings.Cut(ref, "@")
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		for _, p := range patterns {
			if ok, _ := path.Match(p, ref); ok {
				out = append(out, ref)
				break
			}
			if ok, _ := path.Match(p, name); ok {
				out = append(out, ref)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}
