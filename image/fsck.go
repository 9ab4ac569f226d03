package image

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/snapshot"
)

// FsckReport is what Fsck found. Problems are sentences naming the
// object; Repaired lists what repair removed.
type FsckReport struct {
	Blobs     int      // blobs checked
	Snapshots int      // snapshots checked
	Problems  []string // corrupt blobs, missing parts, orphans
	Repaired  []string
}

// OK reports whether the store is consistent.
func (r FsckReport) OK() bool { return len(r.Problems) == 0 }

// Fsck checks the store: every blob's digest, every image's blobs and
// layer snapshots, and what nothing references. With repair it removes
// corrupt blobs (a later pull fetches them again) and collects orphans.
func (s *Service) Fsck(ctx context.Context, repair bool) (FsckReport, error) {
	var r FsckReport
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	present := map[digest.Digest]bool{}
	var corrupt []digest.Digest
	err := s.content.Walk(ctx, func(info content.Info) error {
		r.Blobs++
		if err := s.content.Verify(ctx, info.Digest); err != nil {
			problem("blob %s is corrupt: %v", info.Digest, err)
			corrupt = append(corrupt, info.Digest)
			return nil
		}
		present[info.Digest] = true
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("check blobs: %w", err)
	}
	infos, err := s.walkSnapshots(ctx)
	if err != nil {
		return r, err
	}
	r.Snapshots = len(infos)
	snaps := map[string]bool{}
	for _, info := range infos {
		snaps[info.Name] = true
		if _, err := s.snap.Usage(ctx, info.Name); err != nil {
			problem("snapshot %s (%s) is unreadable: %v", info.Name, info.Kind, err)
		}
	}
	images, err := s.Store.List(ctx)
	if err != nil {
		return r, err
	}
	for _, img := range images {
		for _, d := range append([]digest.Digest{img.Target.Digest, img.Manifest.Digest, img.Config.Digest}, layerDigests(img.Image)...) {
			if !present[d] {
				problem("image %s: blob %s is missing", img.ID, d)
			}
		}
		for i, c := range img.ChainIDs() {
			if !snaps[c.String()] {
				problem("image %s: layer %d snapshot %s is missing", img.ID, i, c)
			}
		}
	}
	l, err := s.mark(ctx, infos)
	if err != nil {
		return r, err
	}
	for d := range present {
		if !l.blobs[d] {
			problem("blob %s is not referenced by any image", d)
		}
	}
	for _, info := range infos {
		if !l.snaps[info.Name] {
			problem("snapshot %s is not referenced by any image or container", info.Name)
		}
	}
	cleaner, _ := s.snap.(snapshot.Cleaner)
	if cleaner != nil {
		dirs, err := cleaner.Orphans(ctx)
		if err != nil {
			return r, fmt.Errorf("look for orphaned snapshot directories: %w", err)
		}
		for _, d := range dirs {
			problem("snapshot directory %s has no record", d)
		}
	}
	if !repair {
		return r, nil
	}
	if cleaner != nil {
		dirs, err := cleaner.Cleanup(ctx)
		for _, d := range dirs {
			r.Repaired = append(r.Repaired, "removed snapshot directory without a record "+d)
		}
		if err != nil {
			return r, fmt.Errorf("remove orphaned snapshot directories: %w", err)
		}
	}
	for _, d := range corrupt {
		if err := s.content.Delete(ctx, d); err != nil {
			return r, fmt.Errorf("remove corrupt blob %s: %w", d, err)
		}
		r.Repaired = append(r.Repaired, "removed corrupt blob "+d.String())
	}
	res, err := s.GC(ctx)
	for _, d := range res.Blobs {
		r.Repaired = append(r.Repaired, "removed unreferenced blob "+d.String())
	}
	for _, k := range res.Snapshots {
		r.Repaired = append(r.Repaired, "removed unreferenced snapshot "+k)
	}
	return r, err
}

func layerDigests(img Image) []digest.Digest {
	out := make([]digest.Digest, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = l.Digest
	}
	return out
}
