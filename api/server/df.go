package server

import (
	"net/http"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
	"github.com/opencontainers/go-digest"
)

// legacyDiskUsage is GET /system/df's answer before API 1.52, which is
// every version berthd serves.
type legacyDiskUsage struct {
	LayersSize int64                `json:"LayersSize"`
	Images     []imagetypes.Summary `json:"Images"`
	Containers []container.Summary  `json:"Containers"`
	Volumes    []volume.Volume      `json:"Volumes"`
	BuildCache []build.CacheRecord  `json:"BuildCache"`
}

// diskUsage answers GET /system/df. An image's Size is what removing it
// and everything it alone uses would free: its layer snapshots and its
// blobs; SharedSize the part of that other images use too. LayersSize is
// everything the image store holds on disk.
func diskUsage(w http.ResponseWriter, r *http.Request, sys System) error {
	ctx := r.Context()
	imgs, err := sys.Images.List(ctx)
	if err != nil {
		return err
	}
	u, err := sys.Usage.DiskUsage(ctx)
	if err != nil {
		return err
	}
	users := map[string]int{}
	for _, l := range u.Layers {
		users[l.ChainID] = l.Images
	}
	byID := map[digest.Digest]int{}
	for i, iu := range u.Images {
		byID[iu.ID] = i
	}
	out := legacyDiskUsage{
		LayersSize: u.SnapshotBytes + u.BlobBytes,
		Images:     []imagetypes.Summary{},
		Containers: []container.Summary{},
		Volumes:    []volume.Volume{},
		BuildCache: []build.CacheRecord{},
	}
	for _, img := range imgs {
		s := summary(img, nil)
		s.Containers = 0
		if i, ok := byID[img.ID]; ok {
			iu := u.Images[i]
			s.Size, s.SharedSize = iu.Size+iu.Blobs, iu.Shared
			for j, c := range img.ChainIDs() {
				if users[c.String()] > 1 && j < len(img.Layers) {
					s.SharedSize += img.Layers[j].Size
				}
			}
		}
		out.Images = append(out.Images, s)
	}
	if sys.Volumes != nil {
		vols, err := sys.Volumes.DiskUsage(ctx)
		if err != nil {
			return err
		}
		out.Volumes = append(out.Volumes, vols...)
	}
	return writeJSON(w, http.StatusOK, out)
}
