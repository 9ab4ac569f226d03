package volume

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"

	bmount "github.com/berth-dev/berth/internal/mount"
)

// Use records that container ctrID uses volume name, creating the volume
// when it does not exist: with name "" an anonymous one. opts are the
// mount's volume options (labels and driver configuration for a volume
// it creates). It returns the volume's name and its data directory.
func (s *Service) Use(ctx context.Context, name, ctrID string, opts *mount.VolumeOptions) (string, string, error) {
	var labels, driverOpts map[string]string
	driver := ""
	if opts != nil {
		labels = opts.Labels
		if opts.DriverConfig != nil {
			driver, driverOpts = opts.DriverConfig.Name, opts.DriverConfig.Options
		}
	}
	if name == "" {
		anon := map[string]string{LabelAnonymous: ""}
		for k, v := range labels {
			anon[k] = v
		}
		labels = anon
	}
	r, _, err := s.create(name, driver, driverOpts, labels)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vols[r.Name] != r {
		// Removed between create and here.
		return "", "", notFound(r.Name)
	}
	if s.refs[r.Name] == nil {
		s.refs[r.Name] = map[string]bool{}
	}
	s.refs[r.Name][ctrID] = true
	return r.Name, s.dataDir(r.Name), nil
}

// Unuse drops container ctrID's reference to volume name.
func (s *Service) Unuse(name, ctrID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refs[name], ctrID)
	if len(s.refs[name]) == 0 {
		delete(s.refs, name)
	}
}

// Mount makes volume name ready for container ctrID, which is starting:
// the first container mounts the driver options' filesystem. It returns
// the data directory.
func (s *Service) Mount(ctx context.Context, name, ctrID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.vols[name]
	if r == nil {
		return "", notFound(name)
	}
	if s.busy[name] == "import" {
		// The import is about to swap the data directory: a container
		// must not bind the old one.
		return "", errorf(errdefs.ErrConflict, "volume %s is being imported", name)
	}
	if len(s.mounts[name]) == 0 {
		if err := s.mountData(r); err != nil {
			return "", err
		}
	}
	if s.mounts[name] == nil {
		s.mounts[name] = map[string]bool{}
	}
	s.mounts[name][ctrID] = true
	s.publish(events.ActionMount, name, map[string]string{"container": ctrID})
	return s.dataDir(name), nil
}

// Unmount says container ctrID stopped using volume name; the last one
// out unmounts the driver options' filesystem.
func (s *Service) Unmount(ctx context.Context, name, ctrID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := s.mounts[name]
	if !users[ctrID] {
		return nil
	}
	delete(users, ctrID)
	s.publish(events.ActionUnmount, name, map[string]string{"container": ctrID})
	r := s.vols[name]
	if len(users) > 0 || r == nil {
		return nil
	}
	delete(s.mounts, name)
	if _, ok := r.mountSpec(); !ok {
		return nil
	}
	if err := bmount.UnmountAll(s.dataDir(name)); err != nil {
		return fmt.Errorf("unmount volume %s: %w", name, err)
	}
	return nil
}

// UnmountUnused takes off the mounts of volumes no running container
// uses: what a berthd that stopped without stopping its containers left
// behind once those containers are gone. Call it after the container
// service restored its containers.
func (s *Service) UnmountUnused(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, r := range s.vols {
		if _, ok := r.mountSpec(); !ok || len(s.mounts[name]) > 0 {
			continue
		}
		if err := bmount.UnmountAll(s.dataDir(name)); err != nil {
			s.log.Warn("unmount an unused volume", "volume", name, "error", err)
		}
	}
}

// SubpathInRoot resolves a subpath of volume name as a mount source: it
// must exist and stay inside the volume, symlinks included.
func (s *Service) SubpathInRoot(name, sub string) (string, error) {
	s.mu.Lock()
	r := s.vols[name]
	s.mu.Unlock()
	if r == nil {
		return "", notFound(name)
	}
	return subpathInRoot(s.dataDir(name), sub)
}

func subpathInRoot(data, sub string) (string, error) {
	// os.Root follows symlinks only where they stay inside the root, and
	// never absolute ones: the path the runtime later binds resolves to
	// the same place.
	root, err := os.OpenRoot(data)
	if err != nil {
		return "", fmt.Errorf("open volume %s: %w", data, err)
	}
	defer root.Close()
	if _, err := root.Stat(sub); err != nil {
		return "", fmt.Errorf("cannot access path %s: %w: %w", filepath.Join(data, sub), err, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(data, filepath.Clean("/"+sub)), nil
}
