package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/snapshot"
)

// GCResult says what a collection removed.
type GCResult struct {
	Blobs     []digest.Digest
	Snapshots []string
	Ingests   []string
	Bytes     int64 // blob bytes freed
}

// live is the mark set: what images, leases and containers reference.
type live struct {
	blobs map[digest.Digest]bool
	snaps map[string]bool
}

// mark collects what must stay: every image's blobs and layer chain,
// what live leases hold, and active and view snapshots (containers' rw
// layers) with their parents.
func (s *Service) mark(ctx context.Context, infos []snapshot.Info) (live, error) {
	l := live{blobs: map[digest.Digest]bool{}, snaps: map[string]bool{}}
	images, err := s.Store.List(ctx)
	if err != nil {
		return l, err
	}
	for _, img := range images {
		for _, d := range []digest.Digest{img.Target.Digest, img.Manifest.Digest, img.Config.Digest} {
			l.blobs[d] = true
		}
		for _, d := range img.Layers {
			l.blobs[d.Digest] = true
		}
		for _, c := range img.ChainIDs() {
			l.snaps[c.String()] = true
		}
	}
	err = s.Store.db.Update(func(tx *bolt.Tx) error {
		ls, err := leases(tx, time.Now())
		for _, lease := range ls {
			for _, d := range lease.Digests {
				l.blobs[d] = true
			}
			for _, k := range lease.Snapshots {
				l.snaps[k] = true
			}
		}
		return err
	})
	if err != nil {
		return l, fmt.Errorf("read leases: %w", err)
	}
	parent := map[string]string{}
	for _, info := range infos {
		parent[info.Name] = info.Parent
		if info.Kind != snapshot.KindCommitted && info.Labels[labelStaging] == "" {
			l.snaps[info.Name] = true
		}
	}
	// A kept snapshot keeps its parents.
	for name := range l.snaps {
		for p := parent[name]; p != "" && !l.snaps[p]; p = parent[p] {
			l.snaps[p] = true
		}
	}
	return l, nil
}

// GC removes blobs and snapshots that no image, lease or container
// references, and downloads abandoned for longer than a lease lives.
// Records go first, files after (crash-safe: a crash leaves garbage for
// the next run, never a record without its files).
func (s *Service) GC(ctx context.Context) (GCResult, error) {
	s.gcLock.Lock()
	defer s.gcLock.Unlock()
	var res GCResult
	infos, err := s.walkSnapshots(ctx)
	if err != nil {
		return res, err
	}
	l, err := s.mark(ctx, infos)
	if err != nil {
		return res, err
	}
	if res.Snapshots, err = s.sweepSnapshots(ctx, infos, l); err != nil {
		return res, err
	}
	err = s.content.Walk(ctx, func(info content.Info) error {
		if l.blobs[info.Digest] {
			return nil
		}
		if err := s.content.Delete(ctx, info.Digest); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		res.Blobs = append(res.Blobs, info.Digest)
		res.Bytes += info.Size
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("collect blobs: %w", err)
	}
	ingests, err := s.content.Ingests(ctx)
	if err != nil {
		return res, err
	}
	for _, in := range ingests {
		if !in.Active && time.Since(in.UpdatedAt) > leaseTTL {
			if err := s.content.AbortIngest(ctx, in.Key); err == nil {
				res.Ingests = append(res.Ingests, in.Key)
			}
		}
	}
	return res, nil
}

// walkSnapshots lists every snapshot.
func (s *Service) walkSnapshots(ctx context.Context) ([]snapshot.Info, error) {
	var infos []snapshot.Info
	err := s.snap.Walk(ctx, func(info snapshot.Info) error {
		infos = append(infos, info)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk snapshots: %w", err)
	}
	return infos, nil
}

// sweepSnapshots removes unmarked snapshots, children before parents.
func (s *Service) sweepSnapshots(ctx context.Context, infos []snapshot.Info, l live) ([]string, error) {
	children := map[string]int{}
	for _, info := range infos {
		if info.Parent != "" {
			children[info.Parent]++
		}
	}
	var removed []string
	for progress := true; progress; {
		progress = false
		for _, info := range infos {
			if l.snaps[info.Name] || children[info.Name] > 0 || info.Name == "" {
				continue
			}
			if err := s.snap.Remove(ctx, info.Name); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return removed, fmt.Errorf("remove snapshot %s: %w", info.Name, err)
			}
			removed = append(removed, info.Name)
			if info.Parent != "" {
				children[info.Parent]--
			}
			l.snaps[info.Name] = true // done: never again
			progress = true
		}
	}
	return removed, nil
}
