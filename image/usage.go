package image

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/snapshot"
)

// ImageUsage is one image's share of the disk.
type ImageUsage struct {
	ID     digest.Digest
	Size   int64 // its layers' unpacked snapshots, as really on disk
	Shared int64 // the part of Size in layers other images use too
	Blobs  int64 // its blobs in the content store (compressed layers, manifests, config)
}

// LayerUsage is one committed layer snapshot.
type LayerUsage struct {
	ChainID string
	Size    int64 // bytes on disk (allocated blocks, hardlinks once)
	Inodes  int64
	Images  int // how many images use it
}

// Usage is the store's disk usage. Layers and Blobs add up to what the
// store really holds on disk: SnapshotBytes + BlobBytes.
type Usage struct {
	Images        []ImageUsage
	Layers        []LayerUsage
	SnapshotBytes int64 // every committed layer snapshot, once
	BlobBytes     int64 // every blob, once
}

// DiskUsage measures every layer snapshot and blob once, and attributes
// them to the images that use them.
func (s *Service) DiskUsage(ctx context.Context) (Usage, error) {
	var u Usage
	images, err := s.Store.List(ctx)
	if err != nil {
		return u, err
	}
	users := map[string]int{}
	for _, img := range images {
		for _, c := range img.ChainIDs() {
			users[c.String()]++
		}
	}
	infos, err := s.walkSnapshots(ctx)
	if err != nil {
		return u, err
	}
	sizes := map[string]int64{}
	for _, info := range infos {
		if info.Kind != snapshot.KindCommitted {
			continue
		}
		us, err := s.snap.Usage(ctx, info.Name)
		if err != nil {
			return u, fmt.Errorf("usage of snapshot %s: %w", info.Name, err)
		}
		sizes[info.Name] = us.Size
		u.SnapshotBytes += us.Size
		u.Layers = append(u.Layers, LayerUsage{ChainID: info.Name, Size: us.Size, Inodes: us.Inodes, Images: users[info.Name]})
	}
	blobs := map[digest.Digest]int64{}
	err = s.content.Walk(ctx, func(info content.Info) error {
		blobs[info.Digest] = info.Size
		u.BlobBytes += info.Size
		return nil
	})
	if err != nil {
		return u, err
	}
	for _, img := range images {
		iu := ImageUsage{ID: img.ID}
		for _, c := range img.ChainIDs() {
			iu.Size += sizes[c.String()]
			if users[c.String()] > 1 {
				iu.Shared += sizes[c.String()]
			}
		}
		seen := map[digest.Digest]bool{}
		for _, d := range append([]digest.Digest{img.Target.Digest, img.Manifest.Digest, img.Config.Digest}, layerDigests(img.Image)...) {
			if !seen[d] {
				seen[d] = true
				iu.Blobs += blobs[d]
			}
		}
		u.Images = append(u.Images, iu)
	}
	return u, nil
}
