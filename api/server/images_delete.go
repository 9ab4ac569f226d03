package server

import (
	"context"
	match "github.com/berth-dev/berth/internal/filters"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/image"
)

// tag answers POST /images/{name}/tag?repo=REPO&tag=TAG: 201 and no
// body.
func (ir *imageRouter) tag(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	q := r.URL.Query()
	repo, tag := q.Get("repo"), q.Get("tag")
	if repo == "" {
		return errorf(errdefs.ErrInvalidArgument, "repository name (repo) is required")
	}
	full := repo
	if tag != "" {
		full += ":" + tag
	}
	ref, err := image.ParseReference(full)
	if err != nil {
		return err
	}
	if ref.Digest != "" {
		return errorf(errdefs.ErrInvalidArgument, "refusing to create a tag with a digest reference")
	}
	if image.Familiar(ref.Repository) == "sha256" {
		return errorf(errdefs.ErrInvalidArgument, "refusing to create an ambiguous tag using digest algorithm as name")
	}
	img, err := ir.get(ctx, name)
	if err != nil {
		return err
	}
	if err := ir.Store.Tag(ctx, img.ID, ref.Name()); err != nil {
		return err
	}
	ir.publish(events.ActionTag, img.ID.String(), ref.Familiar(), ir.labelsOf(ctx, img))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteConflict is dockerd's refusal to delete an image.
func deleteConflict(id digest.Digest, hard bool, why string) error {
	force := "must be forced"
	if hard {
		force = "cannot be forced"
	}
	return errorf(errdefs.ErrConflict, "conflict: unable to delete %s (%s) - %s", shortHex(id), force, why)
}

func shortHex(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

// remove answers DELETE /images/{name}, as dockerd decides: a name is
// untagged (and the image deleted when that was its last name); an ID
// deletes the image, with all its names when they are one repository's,
// else only when forced. An image a running container uses is never
// deleted, one a stopped container uses only when forced. Then the
// collector removes the blobs and layers nothing uses any more.
func (ir *imageRouter) remove(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	force := boolValue(r, "force")
	img, err := ir.get(ctx, name)
	if err != nil {
		return err
	}
	users, err := ir.users(ctx, img.ID)
	if err != nil {
		return err
	}
	var records []imagetypes.DeleteResponse
	untag := func(n string) error {
		if _, err := ir.Store.Untag(ctx, n); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		records = append(records, imagetypes.DeleteResponse{Untagged: image.Familiar(n)})
		ir.publish(events.ActionUnTag, img.ID.String(), img.ID.String(), nil)
		return nil
	}
	quiet := false
	if !isIDRef(name, img.ID) {
		ref, err := image.ParseReference(name)
		if err != nil {
			return err
		}
		if !force && singleRepository(img.Names) && len(users) > 0 {
			return errorf(errdefs.ErrConflict, "conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, shortID(users[0].ID), shortHex(img.ID))
		}
		if err := untag(ref.Name()); err != nil {
			return err
		}
		left := without(img.Names, ref.Name())
		// The last tag of a repository takes the repository's digest
		// references with it.
		if ref.Digest == "" && !hasTagIn(left, ref.Repository) {
			var keep []string
			for _, n := range left {
				if rf, err := image.ParseReference(n); err == nil && rf.Digest != "" && rf.Repository == ref.Repository {
					if err := untag(n); err != nil {
						return err
					}
					continue
				}
				keep = append(keep, n)
			}
			left = keep
		}
		if len(left) > 0 {
			return writeJSON(w, http.StatusOK, records)
		}
		img.Names, quiet = nil, true
	} else if singleRepository(img.Names) {
		if err := usedConflict(img.ID, users, force); err != nil {
			return err
		}
		for _, n := range img.Names {
			if err := untag(n); err != nil {
				return err
			}
		}
		img.Names = nil
	}
	if err := usedConflict(img.ID, users, force); err != nil {
		if quiet {
			return writeJSON(w, http.StatusOK, records) // the image stays for its container
		}
		return err
	}
	if len(img.Names) > 0 && !force {
		return deleteConflict(img.ID, false, "image is referenced in multiple repositories")
	}
	for _, n := range img.Names {
		if err := untag(n); err != nil {
			return err
		}
	}
	if err := ir.Store.Delete(ctx, img.ID); err != nil {
		return err
	}
	ir.publish(events.ActionDelete, img.ID.String(), img.ID.String(), nil)
	records = append(records, imagetypes.DeleteResponse{Deleted: img.ID.String()})
	removed := ir.collect(ctx)
	chain := img.ChainIDs()
	for i := len(chain) - 1; i >= 0; i-- {
		if removed[chain[i].String()] {
			records = append(records, imagetypes.DeleteResponse{Deleted: chain[i].String()})
		}
	}
	return writeJSON(w, http.StatusOK, records)
}

// usedConflict refuses to delete an image a container uses: always when
// it runs, unless forced when it is stopped.
func usedConflict(id digest.Digest, users []ImageUser, force bool) error {
	for _, u := range users {
		if u.Running {
			return deleteConflict(id, true, "image is being used by running container "+shortID(u.ID))
		}
	}
	if len(users) > 0 && !force {
		return deleteConflict(id, false, "image is being used by stopped container "+shortID(users[0].ID))
	}
	return nil
}

func (ir *imageRouter) users(ctx context.Context, id digest.Digest) ([]ImageUser, error) {
	if ir.Users == nil {
		return nil, nil
	}
	return ir.Users.ContainersUsing(ctx, id)
}

// collectWait bounds how long a request waits for the collector, which
// waits for pulls in progress to finish.
const collectWait = 30 * time.Second

// collect runs the garbage collector and returns the snapshots it
// removed. The collection goes on in the background when it takes
// longer than collectWait (or the client leaves): it finishes anyway.
func (ir *imageRouter) collect(ctx context.Context) map[string]bool {
	done := make(chan image.GCResult, 1)
	go func() {
		res, err := ir.Service.GC(context.WithoutCancel(ctx))
		if err != nil {
			loggerFrom(ctx).Error("collect garbage", "error", err)
		}
		done <- res
	}()
	removed := map[string]bool{}
	select {
	case res := <-done:
		for _, s := range res.Snapshots {
			removed[s] = true
		}
	case <-time.After(collectWait):
	case <-ctx.Done():
	}
	return removed
}

// singleRepository reports whether names are of one repository with at
// most one tag (dockerd's isSingleReference).
func singleRepository(names []string) bool {
	if len(names) == 0 {
		return false
	}
	repo, tags := "", 0
	for _, n := range names {
		rf, err := image.ParseReference(n)
		if err != nil {
			return false
		}
		if repo != "" && rf.Repository != repo {
			return false
		}
		repo = rf.Repository
		if rf.Digest == "" {
			tags++
		}
	}
	return tags <= 1
}

func hasTagIn(names []string, repo string) bool {
	for _, n := range names {
		if rf, err := image.ParseReference(n); err == nil && rf.Digest == "" && rf.Repository == repo {
			return true
		}
	}
	return false
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// shortID is a container ID as dockerd shortens it.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// prune answers POST /images/prune: images without a tag (all unused
// images with dangling=false), then the collector.
func (ir *imageRouter) prune(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := filters(r, "dangling", "label", "label!", "until")
	if err != nil {
		return err
	}
	danglingOnly := true
	for _, v := range f["dangling"] {
		danglingOnly = !(strings.EqualFold(v, "false") || v == "0")
	}
	var until time.Time
	for _, v := range f["until"] {
		if until, err = match.Until(v, time.Now()); err != nil {
			return err
		}
	}
	imgs, err := ir.Store.List(ctx)
	if err != nil {
		return err
	}
	before, _ := ir.Service.DiskUsage(ctx)
	report := imagetypes.PruneReport{ImagesDeleted: []imagetypes.DeleteResponse{}}
	for _, img := range imgs {
		tags, _ := names(img)
		if danglingOnly && len(tags) > 0 || !until.IsZero() && !img.Created.Before(until) {
			continue
		}
		if !match.Labels(ir.labelsOf(ctx, img), f["label"], f["label!"]) {
			continue
		}
		if users, err := ir.users(ctx, img.ID); err != nil || len(users) > 0 {
			continue
		}
		for _, n := range img.Names {
			report.ImagesDeleted = append(report.ImagesDeleted, imagetypes.DeleteResponse{Untagged: image.Familiar(n)})
		}
		if err := ir.Store.Delete(ctx, img.ID); err != nil {
			return err
		}
		ir.publish(events.ActionDelete, img.ID.String(), img.ID.String(), nil)
		report.ImagesDeleted = append(report.ImagesDeleted, imagetypes.DeleteResponse{Deleted: img.ID.String()})
	}
	ir.collect(ctx)
	if after, err := ir.Service.DiskUsage(ctx); err == nil {
		if freed := before.SnapshotBytes + before.BlobBytes - after.SnapshotBytes - after.BlobBytes; freed > 0 {
			report.SpaceReclaimed = uint64(freed)
		}
	}
	if ir.Events != nil {
		ir.Events.Publish(events.Message{Type: events.ImageEventType, Action: events.ActionPrune,
			Actor: events.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)}}})
	}
	return writeJSON(w, http.StatusOK, report)
}
