package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/internal/mount"
)

// Driver is the one volume driver berthd has.
const Driver = "local"

// LabelAnonymous marks the volumes a container created for itself, as
// Docker marks them.
const LabelAnonymous = "com.docker.volume.anonymous"

// removePrefix names the directories of volumes being removed; no volume
// name starts with '.'.
const removePrefix = ".remove-"

// Publisher records events (daemon/events.Bus).
type Publisher interface {
	Publish(events.Message)
}

// Options configure the service.
type Options struct {
	DB *bolt.DB
	// Root holds one directory per volume (DATA/volumes).
	Root   string
	Events Publisher // nil: no events
	Logger *slog.Logger
}

// Service keeps the volumes. Make it with New.
type Service struct {
	o   Options
	log *slog.Logger

	mu   sync.Mutex
	vols map[string]*record
	// refs are the containers that use each volume; mounts those of
	// them running with the volume mounted.
	refs   map[string]map[string]bool
	mounts map[string]map[string]bool
	// busy marks volumes an import or export is working on: "import"
	// or "export".
	busy map[string]string
	// copyMu serializes copy-ups (Populate).
	copyMu sync.Mutex
}

// New opens the volume records and reconciles them with Root.
func New(o Options) (*Service, error) {
	if o.DB == nil || o.Root == "" {
		return nil, fmt.Errorf("volume service: database and root are required: %w", errdefs.ErrInvalidArgument)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(o.Root, 0o701); err != nil {
		return nil, fmt.Errorf("volume service: %w", err)
	}
	s := &Service{o: o, log: o.Logger, vols: map[string]*record{}, refs: map[string]map[string]bool{},
		mounts: map[string]map[string]bool{}, busy: map[string]string{}}
	recs, bad, err := loadRecords(o.DB)
	if err != nil {
		return nil, err
	}
	for _, k := range bad {
		s.log.Error("volume record does not decode; its directory is adopted as a new volume", "volume", k)
	}
	for _, r := range recs {
		s.vols[r.Name] = r
	}
	if err := s.reconcile(); err != nil {
		return nil, err
	}
	return s, nil
}

// reconcile finishes removals, adopts directories without a record and
// recreates the directories records name.
func (s *Service) reconcile() error {
	ents, err := os.ReadDir(s.o.Root)
	if err != nil {
		return fmt.Errorf("volume service: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, removePrefix):
			s.removeDir(filepath.Join(s.o.Root, name))
		case e.IsDir() && ValidName(name) && s.vols[name] == nil:
			r := &record{Name: name, Driver: Driver, CreatedAt: time.Now().UTC()}
			if err := putRecord(s.o.DB, r); err != nil {
				return err
			}
			s.vols[name] = r
			s.log.Info("adopted a volume directory without a record", "path", filepath.Join(s.o.Root, name))
		}
	}
	for name := range s.vols {
		// A crash between an import's two renames: the old data goes
		// back in place.
		old := filepath.Join(s.volDir(name), "_old")
		if _, err := os.Lstat(s.dataDir(name)); errors.Is(err, os.ErrNotExist) {
			os.Rename(old, s.dataDir(name))
		}
		if err := os.MkdirAll(s.dataDir(name), 0o755); err != nil {
			return fmt.Errorf("volume %s: %w", name, err)
		}
		// An import cut short leaves its directory, or the old data it
		// was about to remove, beside _data.
		leftovers, _ := filepath.Glob(filepath.Join(s.volDir(name), "_import-*"))
		for _, p := range append(leftovers, old) {
			s.removeDir(p)
		}
	}
	return nil
}

// Paths of a volume.
func (s *Service) volDir(name string) string  { return filepath.Join(s.o.Root, name) }
func (s *Service) dataDir(name string) string { return filepath.Join(s.o.Root, name, "_data") }

// ValidName is the local driver's rule for names (the one spec
// generation checks requests with), at most 255 bytes: a directory name.
func ValidName(n string) bool { return len(n) <= 255 && spec.ValidVolumeName(n) }

// notFound is dockerd's answer for a volume that does not exist.
func notFound(name string) error {
	return errorf(errdefs.ErrNotFound, "get %s: no such volume", name)
}

// errorf returns an error of an errdefs class whose text is exactly
// dockerd's.
func errorf(class interface{ WithMessage(string) error }, format string, args ...any) error {
	return class.WithMessage(fmt.Sprintf(format, args...))
}

// newName is an anonymous volume's name: 64 hex digits.
func newName() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("volume name: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Create creates a volume, as POST /volumes/create; name "" gets a
// random one. A volume that exists already is returned as it is, as
// dockerd does.
func (s *Service) Create(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	r, _, err := s.create(req.Name, req.Driver, req.DriverOpts, req.Labels)
	if err != nil {
		return volume.Volume{}, err
	}
	return s.describe(r, false), nil
}

// create makes the volume unless it exists; created says whether it did.
func (s *Service) create(name, driver string, opts, labels map[string]string) (_ *record, created bool, err error) {
	if driver != "" && driver != Driver {
		return nil, false, errorf(errdefs.ErrNotFound, "create %s: error looking up volume plugin %s: plugin %q not found", name, driver, driver)
	}
	if name == "" {
		if name, err = newName(); err != nil {
			return nil, false, err
		}
	} else if !ValidName(name) {
		return nil, false, errorf(errdefs.ErrInvalidArgument, "create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.vols[name]; r != nil {
		return r, false, nil
	}
	if err := checkOptions(opts); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", name, err)
	}
	r := &record{Name: name, Driver: Driver, Labels: maps.Clone(labels), Options: maps.Clone(opts), CreatedAt: time.Now().UTC()}
	if err := os.MkdirAll(s.dataDir(name), 0o755); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", name, err)
	}
	if err := putRecord(s.o.DB, r); err != nil {
		os.RemoveAll(s.volDir(name))
		return nil, false, err
	}
	s.vols[name] = r
	s.publish(events.ActionCreate, name, nil)
	return r, true, nil
}

// Get describes a volume, as GET /volumes/{name}.
func (s *Service) Get(ctx context.Context, name string) (volume.Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.vols[name]
	if r == nil {
		return volume.Volume{}, notFound(name)
	}
	return s.describe(r, false), nil
}

// describe is a volume as the API shows it; with usage, its size and
// reference count. The caller holds s.mu, or r is not shared yet.
func (s *Service) describe(r *record, usage bool) volume.Volume {
	v := volume.Volume{
		Name: r.Name, Driver: r.Driver, Scope: "local", Mountpoint: s.dataDir(r.Name),
		CreatedAt: r.CreatedAt.Format(time.RFC3339), Labels: maps.Clone(r.Labels), Options: maps.Clone(r.Options),
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	if usage {
		v.UsageData = &volume.UsageData{Size: -1, RefCount: int64(len(s.refs[r.Name]))}
	}
	return v
}

// List lists the volumes matching the filters (dangling, driver, label,
// name), sorted by name, as GET /volumes.
func (s *Service) List(ctx context.Context, filters map[string][]string) ([]volume.Volume, error) {
	f, err := parseFilters(filters, "dangling", "driver", "label", "name")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []volume.Volume{}
	for _, name := range slices.Sorted(maps.Keys(s.vols)) {
		r := s.vols[name]
		if f.match(r, len(s.refs[name]) > 0) {
			out = append(out, s.describe(r, false))
		}
	}
	return out, nil
}

// Remove removes an unused volume, as DELETE /volumes/{name}. With force
// a volume that does not exist is no error.
func (s *Service) Remove(ctx context.Context, name string, force bool) error {
	s.mu.Lock()
	r := s.vols[name]
	if r == nil {
		s.mu.Unlock()
		if force {
			return nil
		}
		return notFound(name)
	}
	if err := s.removable(name); err != nil {
		s.mu.Unlock()
		return err
	}
	aside, err := s.removeLocked(name)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.removeDir(aside)
	return nil
}

// removable refuses a volume in use or busy; the caller holds s.mu.
func (s *Service) removable(name string) error {
	if users := s.refs[name]; len(users) > 0 {
		return errorf(errdefs.ErrConflict, "remove %s: volume is in use - [%s]", name, strings.Join(slices.Sorted(maps.Keys(users)), ", "))
	}
	if s.busy[name] != "" {
		return errorf(errdefs.ErrConflict, "remove %s: volume is being imported or exported", name)
	}
	return nil
}

// removeLocked unmounts the volume, deletes the record and moves the
// directory aside; the caller deletes the directory (removeDir) once it
// has released s.mu, which it holds.
func (s *Service) removeLocked(name string) (aside string, err error) {
	// Take the mount off first: removing a bind or device volume must
	// never delete what it mounts.
	if err := mount.UnmountAll(s.dataDir(name)); err != nil {
		return "", fmt.Errorf("remove %s: %w", name, err)
	}
	if err := deleteRecord(s.o.DB, name); err != nil {
		return "", err
	}
	delete(s.vols, name)
	delete(s.mounts, name)
	suffix, _ := newName()
	aside = filepath.Join(s.o.Root, removePrefix+name+"-"+suffix[:12])
	if err := os.Rename(s.volDir(name), aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("move a removed volume's directory aside", "path", s.volDir(name), "error", err)
		aside = s.volDir(name)
	}
	s.publish(events.ActionDestroy, name, nil)
	return aside, nil
}

// removeDir deletes a removed volume's directory, never through a mount.
func (s *Service) removeDir(dir string) {
	if err := mount.UnmountAll(dir); err != nil {
		s.log.Warn("unmount a removed volume", "path", dir, "error", err)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("remove a removed volume's directory", "path", dir, "error", err)
	}
}

// publish sends a volume event.
func (s *Service) publish(action events.Action, name string, attrs map[string]string) {
	if s.o.Events == nil {
		return
	}
	a := map[string]string{"driver": Driver}
	maps.Copy(a, attrs)
	s.o.Events.Publish(events.Message{Type: events.VolumeEventType, Action: action, Actor: events.Actor{ID: name, Attributes: a}})
}
