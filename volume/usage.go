package volume

import (
	"context"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-dev/berth/internal/filters"
)

// Prune removes the unused volumes matching the filters (label, label!,
// all), as POST /volumes/prune: only anonymous ones unless all is true.
func (s *Service) Prune(ctx context.Context, req map[string][]string) (volume.PruneReport, error) {
	all := false
	if vs, ok := req["all"]; ok {
		for _, v := range vs {
			b, err := filters.Bool("all", v)
			if err != nil {
				return volume.PruneReport{}, err
			}
			all = all || b
		}
		req = maps.Clone(req)
		delete(req, "all")
	}
	f, err := parseFilters(req, "label", "label!")
	if err != nil {
		return volume.PruneReport{}, err
	}
	rep := volume.PruneReport{VolumesDeleted: []string{}}
	for _, name := range s.names() {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		s.mu.Lock()
		r := s.vols[name]
		ok := r != nil && len(s.refs[name]) == 0 && s.busy[name] == "" && (all || r.anonymous()) && f.match(r, false)
		s.mu.Unlock()
		if !ok {
			continue
		}
		size := dirSize(s.dataDir(name))
		s.mu.Lock()
		// Check again: a container may have taken it meanwhile.
		var aside string
		if s.vols[name] == r && s.removable(name) == nil {
			aside, err = s.removeLocked(name)
		} else {
			err = errdefs.ErrConflict
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Warn("prune volume", "volume", name, "error", err)
			continue
		}
		s.removeDir(aside)
		rep.VolumesDeleted = append(rep.VolumesDeleted, name)
		rep.SpaceReclaimed += uint64(size)
	}
	return rep, nil
}

// names lists the volumes' names, sorted.
func (s *Service) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.vols))
}

// DiskUsage describes every volume with its size and reference count,
// for GET /system/df.
func (s *Service) DiskUsage(ctx context.Context) ([]volume.Volume, error) {
	var out []volume.Volume
	for _, name := range s.names() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		r := s.vols[name]
		var v volume.Volume
		if r != nil {
			v = s.describe(r, true)
		}
		s.mu.Unlock()
		if r == nil {
			continue
		}
		v.UsageData.Size = dirSize(s.dataDir(name))
		out = append(out, v)
	}
	return out, nil
}

// dirSize adds up the sizes of what lies below dir but directories, each
// file once however many links it has, as dockerd measures volumes.
func dirSize(dir string) int64 {
	var size int64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		size += fi.Size()
		return nil
	})
	return size
}
