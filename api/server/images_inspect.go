package server

import (
	"net/http"
	"time"

	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
)

// inspectV143 is an inspect answer as API versions before 1.44 send it.
type inspectV143 struct {
	imagetypes.InspectResponse
	VirtualSize int64 `json:"VirtualSize"`
}

// inspect answers GET /images/{name}/json.
func (ir *imageRouter) inspect(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	img, err := ir.get(ctx, name)
	if err != nil {
		return err
	}
	c, err := ir.config(ctx, img)
	if err != nil {
		return err
	}
	tags, digests := names(img)
	layers := make([]string, len(img.DiffIDs))
	for i, d := range img.DiffIDs {
		layers[i] = d.String()
	}
	cfg := c.Config
	resp := imagetypes.InspectResponse{
		ID:           img.ID.String(),
		RepoTags:     tags,
		RepoDigests:  digests,
		Comment:      c.Comment,
		Author:       c.Author,
		Config:       &cfg,
		Architecture: c.Architecture,
		Variant:      c.Variant,
		Os:           c.OS,
		OsVersion:    c.OSVersion,
		Size:         img.Size,
		GraphDriver:  &storage.DriverData{Name: ir.Driver, Data: map[string]string{}},
		RootFS:       imagetypes.RootFS{Type: "layers", Layers: layers},
	}
	if c.Created != nil && !c.Created.IsZero() {
		resp.Created = c.Created.UTC().Format(time.RFC3339Nano)
	}
	if resp.Comment == "" && len(c.History) > 0 {
		resp.Comment = c.History[len(c.History)-1].Comment
	}
	if !versionBefore(ctx, "1.48") {
		target := img.Target
		resp.Descriptor = &target
	}
	if versionBefore(ctx, "1.44") {
		return writeJSON(w, http.StatusOK, inspectV143{InspectResponse: resp, VirtualSize: img.Size})
	}
	return writeJSON(w, http.StatusOK, resp)
}

// history answers GET /images/{name}/history: the config's history,
// newest first, each step that made a layer with that layer's size on
// disk. The newest step carries the image's ID and tags; older ones
// "<missing>", as for any pulled image in dockerd.
func (ir *imageRouter) history(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	img, err := ir.get(ctx, name)
	if err != nil {
		return err
	}
	c, err := ir.config(ctx, img)
	if err != nil {
		return err
	}
	chain := img.ChainIDs()
	layerSize := func(i int) int64 {
		if ir.Layers == nil || i >= len(chain) {
			return 0
		}
		u, err := ir.Layers.Usage(ctx, chain[i].String())
		if err != nil {
			return 0
		}
		return u.Size
	}
	var items []imagetypes.HistoryResponseItem
	layer := 0
	for _, h := range c.History {
		it := imagetypes.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: nil}
		if h.Created != nil {
			it.Created = unixSeconds(*h.Created)
		}
		if !h.EmptyLayer {
			it.Size = layerSize(layer)
			layer++
		}
		items = append(items, it)
	}
	if len(c.History) == 0 { // no history recorded: one step per layer
		for i := range img.DiffIDs {
			items = append(items, imagetypes.HistoryResponseItem{ID: "<missing>", Created: unixSeconds(img.Created), Size: layerSize(i)})
		}
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	if len(items) == 0 {
		items = append(items, imagetypes.HistoryResponseItem{Created: unixSeconds(img.Created)})
	}
	tags, _ := names(img)
	items[0].ID, items[0].Tags = img.ID.String(), tags
	return writeJSON(w, http.StatusOK, items)
}
