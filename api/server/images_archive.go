package server

import (
	"bufio"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berth-dev/berth/image"
)

// save answers GET /images/get?names=A&names=B with one tar holding the
// images, both an OCI layout and a docker-archive.
func (ir *imageRouter) save(w http.ResponseWriter, r *http.Request) error {
	refs := r.URL.Query()["names"]
	if len(refs) == 0 {
		return errorf(errdefs.ErrInvalidArgument, "no image names given")
	}
	return ir.saveImages(w, r, refs)
}

// saveOne answers GET /images/{name}/get.
func (ir *imageRouter) saveOne(w http.ResponseWriter, r *http.Request, name string) error {
	return ir.saveImages(w, r, []string{name})
}

func (ir *imageRouter) saveImages(w http.ResponseWriter, r *http.Request, refs []string) error {
	ctx := r.Context()
	var imgs []image.Named
	for _, ref := range refs {
		img, err := ir.get(ctx, ref) // every name is checked before the stream starts
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 1<<20)
	err := ir.Service.Save(ctx, bw, refs)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The status is sent: all that is left is to cut the connection,
		// so that the client sees a truncated archive, not a whole one.
		loggerFrom(ctx).Error("save images", "images", refs, "error", err)
		panic(http.ErrAbortHandler)
	}
	for i, img := range imgs {
		ir.publish(events.ActionSave, img.ID.String(), refs[i], nil)
	}
	return nil
}

// load answers POST /images/load: the body is a docker-archive or OCI
// layout tar; the stream says what was loaded, as docker load prints it.
// quiet (the default) leaves out the per-layer progress.
func (ir *imageRouter) load(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	quiet := boolOr(r, "quiet", true)
	st := newStream(ctx, w)
	var progress func(image.Progress)
	if !quiet {
		// docker load shows one "Loading layer" bar per layer, from
		// the start of its unpacking to its end.
		sizes := map[string]int64{}
		progress = serialize(func(p image.Progress) {
			switch {
			case p.Status == "Extracting" && p.Total > 0:
				sizes[p.ID] = p.Total
				st.send(message{ID: p.ID, Status: "Loading layer", Progress: &jsonstream.Progress{Current: p.Current, Total: p.Total}})
			case p.Status == "Pull complete" && sizes[p.ID] > 0:
				st.send(message{ID: p.ID, Status: "Loading layer", Progress: &jsonstream.Progress{Current: sizes[p.ID], Total: sizes[p.ID]}})
			}
		})
	}
	imgs, err := ir.Service.Load(ctx, bufio.NewReaderSize(r.Body, 1<<20), progress)
	for _, img := range imgs {
		tags, _ := names(img)
		name := img.ID.String()
		if len(tags) == 0 {
			st.send(message{Stream: "Loaded image ID: " + img.ID.String() + "\n"})
		}
		for _, t := range tags {
			st.send(message{Stream: "Loaded image: " + t + "\n"})
			name = t
		}
		ir.publish(events.ActionLoad, img.ID.String(), name, ir.labelsOf(ctx, img))
	}
	return st.finish(err)
}
