package overlay

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/storage"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Bucket is the top-level bbolt bucket of the overlay snapshotter's records.
const Bucket = "snapshots/overlay"

// Snapshotter keeps snapshots as overlayfs layers under root/snapshots.
type Snapshotter struct {
	storage.Common
	indexOff bool
	// offOpts turn off redirect_dir and metacopy where the kernel turns
	// them on by default: an upper directory written with either cannot
	// be read back as a layer (commit, docker diff).
	offOpts []string
}

var (
	_ snapshot.Snapshotter = (*Snapshotter)(nil)
	_ snapshot.Cleaner     = (*Snapshotter)(nil)
)

// New opens the overlay snapshotter at root, keeping its records in db
// (which the caller owns and closes after Close). root must be used by this
// snapshotter alone.
func New(root string, db *bolt.DB) (*Snapshotter, error) {
	// mount(2)'s option data cannot carry a comma inside a path.
	if strings.ContainsRune(root, ',') {
		return nil, fmt.Errorf("overlay snapshotter root %s: a comma cannot be passed to overlayfs: %w", root, errdefs.ErrInvalidArgument)
	}
	st, err := storage.Open(root, db, Bucket)
	if err != nil {
		return nil, err
	}
	idx, _ := os.ReadFile("/sys/module/overlay/parameters/index")
	s := &Snapshotter{indexOff: strings.TrimSpace(string(idx)) == "Y"}
	for _, p := range []string{"redirect_dir", "metacopy"} {
		if v, _ := os.ReadFile("/sys/module/overlay/parameters/" + p); strings.TrimSpace(string(v)) == "Y" {
			s.offOpts = append(s.offOpts, p+"=off")
		}
	}
	s.Common = storage.Common{St: st, MountsOf: s.mounts}
	return s, nil
}

// Features: overlay whiteouts, and rebase on Commit.
func (s *Snapshotter) Features() snapshot.Features {
	return snapshot.Features{OverlayWhiteouts: true, Rebase: true}
}

func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error) {
	r, parents, err := s.St.Create(ctx, snapshot.KindActive, key, parent, snapshot.NewOptions(opts...), nil)
	if err != nil {
		return nil, err
	}
	return s.mounts(r, parents), nil
}

func (s *Snapshotter) Commit(ctx context.Context, name, key string, opts ...snapshot.Opt) error {
	return s.St.Commit(ctx, name, key, snapshot.NewOptions(opts...), true)
}

func (s *Snapshotter) mounts(r storage.Record, parents []uint64) []mount.Mount {
	rw := "rw"
	if r.Kind == snapshot.KindView {
		rw = "ro"
	}
	switch {
	case len(parents) == 0:
		return []mount.Mount{{Type: "bind", Source: s.St.FS(r.ID), Options: []string{"rbind", rw}}}
	case r.Kind == snapshot.KindView && len(parents) == 1:
		return []mount.Mount{{Type: "bind", Source: s.St.FS(parents[0]), Options: []string{"rbind", "ro"}}}
	}
	lowers := make([]string, len(parents))
	for i, id := range parents {
		lowers[i] = strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s.St.FS(id))
	}
	var opts []string
	if s.indexOff {
		opts = append(opts, "index=off")
	}
	if r.Kind == snapshot.KindActive {
		opts = append(opts, s.offOpts...)
		opts = append(opts, "upperdir="+s.St.FS(r.ID), "workdir="+s.St.Work(r.ID))
	}
	opts = append(opts, "lowerdir="+strings.Join(lowers, ":"))
	return []mount.Mount{{Type: "overlay", Source: "overlay", Options: opts}}
}
