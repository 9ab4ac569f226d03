package containers

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/internal/fsutil"
)

// VolumeService keeps the named and anonymous volumes
// (volume.Service). A container holds a reference (Use) to each
// volume it mounts from create to removal, and has it mounted (Mount)
// while it runs.
type VolumeService interface {
	// Use creates the volume if missing (name "": an anonymous one) and
	// records ctrID as a user; it returns the name and data directory.
	Use(ctx context.Context, name, ctrID string, opts *mount.VolumeOptions) (string, string, error)
	Unuse(name, ctrID string)
	Mount(ctx context.Context, name, ctrID string) (string, error)
	Unmount(ctx context.Context, name, ctrID string) error
	Remove(ctx context.Context, name string, force bool) error
	// Populate copies the directory src into the volume if it is empty.
	Populate(ctx context.Context, name, src string) error
	// SubpathInRoot checks that sub exists inside the volume.
	SubpathInRoot(name, sub string) (string, error)
}

// volumeMount is a volume a container mounts, as its record keeps it.
type volumeMount struct {
	Name        string `json:"name"`
	Destination string `json:"destination"`
	// Source is the host path bound: the volume's data directory, or a
	// subpath of it.
	Source    string `json:"source"`
	RW        bool   `json:"rw"`
	Mode      string `json:"mode,omitempty"`
	Anonymous bool   `json:"anonymous,omitempty"`
	NoCopy    bool   `json:"nocopy,omitempty"`
	Subpath   string `json:"subpath,omitempty"`
}

// volumeUse collects the volumes one create takes, to record them, or to
// give them back when the create fails.
type volumeUse struct {
	s     *Service
	ctx   context.Context
	id    string
	mount []volumeMount
}

// options are the spec options that resolve volumes through the
// service; none without one.
func (u *volumeUse) options() []spec.Option {
	if u.s.o.Volumes == nil {
		return nil
	}
	return []spec.Option{spec.WithVolumes(func(name, dest string, opts *mount.VolumeOptions) (string, error) {
		n, dir, err := u.s.o.Volumes.Use(u.ctx, name, u.id, opts)
		if err != nil {
			return "", err
		}
		vm := volumeMount{Name: n, Destination: dest, Source: dir, RW: true, Anonymous: name == ""}
		if opts != nil {
			vm.NoCopy, vm.Subpath = opts.NoCopy, opts.Subpath
		}
		if vm.Subpath != "" {
			vm.Source = path.Join(dir, path.Clean("/"+vm.Subpath))
		}
		u.mount = append(u.mount, vm)
		return vm.Source, nil
	})}
}

// finish fills in what the generated spec and the request say of each
// volume mount: read-only, mode.
func (u *volumeUse) finish(mounts []specs.Mount, hc *container.HostConfig) {
	modes := map[string]string{}
	for _, raw := range hc.Binds {
		if b, err := spec.ParseBind(raw); err == nil && b.Volume {
			_, _, mode := splitBindMode(raw)
			if mode == "" {
				mode = "z" // dockerd's default for -v volumes
			}
			modes[b.Destination] = mode
		}
	}
	for i := range u.mount {
		vm := &u.mount[i]
		vm.Mode = modes[vm.Destination]
		for _, m := range mounts {
			if m.Destination == vm.Destination && slices.Contains(m.Options, "ro") {
				vm.RW = false
			}
		}
	}
}

// undo gives the volumes back after a failed create: references dropped,
// the anonymous volumes it made removed.
func (u *volumeUse) undo() {
	ctx := context.WithoutCancel(u.ctx)
	for _, vm := range u.mount {
		u.s.o.Volumes.Unuse(vm.Name, u.id)
		if vm.Anonymous {
			if err := u.s.o.Volumes.Remove(ctx, vm.Name, true); err != nil {
				u.s.log.Warn("remove the anonymous volume of a container that failed to create", "container", u.id, "error", err)
			}
		}
	}
}

// volumesFrom turns HostConfig.VolumesFrom ("ctr[:ro|rw]") into volume
// mounts and binds added to a copy of hc: every volume and bind of those
// containers, at the same place, unless the request mounts something
// there itself.
func (s *Service) volumesFrom(hc *container.HostConfig) (*container.HostConfig, error) {
	if len(hc.VolumesFrom) == 0 {
		return hc, nil
	}
	taken := map[string]bool{}
	for _, raw := range hc.Binds {
		if b, err := spec.ParseBind(raw); err == nil {
			taken[b.Destination] = true
		}
	}
	for _, m := range hc.Mounts {
		taken[path.Clean(m.Target)] = true
	}
	for d := range hc.Tmpfs {
		taken[path.Clean(d)] = true
	}
	out := *hc
	out.Binds, out.Mounts = slices.Clone(hc.Binds), slices.Clone(hc.Mounts)
	for _, from := range hc.VolumesFrom {
		ref, mode, _ := strings.Cut(from, ":")
		switch mode {
		case "", "ro", "rw":
		default:
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid mode for volumes-from: %s", mode)
		}
		c, err := s.get(ref)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		vols, binds := slices.Clone(c.rec.Volumes), mountPoints(c.rec.HostConfig)
		c.mu.Unlock()
		for _, vm := range vols {
			if taken[vm.Destination] {
				continue
			}
			taken[vm.Destination] = true
			out.Mounts = append(out.Mounts, mount.Mount{Type: mount.TypeVolume, Source: vm.Name, Target: vm.Destination,
				ReadOnly:      mode == "ro" || mode == "" && !vm.RW,
				VolumeOptions: &mount.VolumeOptions{NoCopy: true, Subpath: vm.Subpath}})
		}
		for _, b := range binds {
			if b.Type != mount.TypeBind || taken[b.Destination] {
				continue
			}
			taken[b.Destination] = true
			rw := mode == "rw" || mode == "" && b.RW
			out.Binds = append(out.Binds, b.Source+":"+b.Destination+":"+map[bool]string{true: "rw", false: "ro"}[rw])
		}
	}
	return &out, nil
}

// claimVolumes declares the volumes of every container loaded from the
// records to the volume service, which keeps references only in memory.
func (s *Service) claimVolumes(ctx context.Context) {
	if s.o.Volumes == nil {
		return
	}
	for _, c := range s.all() {
		for _, vm := range c.volumes() {
			if _, _, err := s.o.Volumes.Use(ctx, vm.Name, c.id, nil); err != nil {
				s.log.Warn("container's volume", "container", c.id, "volume", vm.Name, "error", err)
			}
		}
	}
}

// mountVolumes readies a starting container's volumes: mounted (with
// driver options), subpaths checked, empty ones filled with the image's
// content at their destination (copy-up). The rootfs is mounted.
func (s *Service) mountVolumes(ctx context.Context, c *ctr, vols []volumeMount) (err error) {
	if len(vols) == 0 {
		return nil
	}
	if s.o.Volumes == nil {
		return errorf(errdefs.ErrNotImplemented, "container %s has volumes, and berthd no volume service", c.id)
	}
	var done []volumeMount
	defer func() {
		if err != nil {
			s.unmountVolumes(c.id, done)
		}
	}()
	for _, vm := range vols {
		if _, err := s.o.Volumes.Mount(ctx, vm.Name, c.id); err != nil {
			return err
		}
		done = append(done, vm)
		if vm.Subpath != "" {
			if _, err := s.o.Volumes.SubpathInRoot(vm.Name, vm.Subpath); err != nil {
				return err
			}
			continue
		}
		if vm.NoCopy {
			continue
		}
		if err := s.copyUp(ctx, c.id, vm); err != nil {
			return err
		}
	}
	return nil
}

// copyUp fills an empty volume with what the image has at its
// destination, opened inside the rootfs (RESOLVE_IN_ROOT: a symlink in
// the image cannot point the copy at the host).
func (s *Service) copyUp(ctx context.Context, id string, vm volumeMount) error {
	root, err := unix.Open(s.rootfs(id), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("copy into volume %s: %w", vm.Name, err)
	}
	defer unix.Close(root)
	fd, err := fsutil.OpenInRoot(root, strings.TrimPrefix(vm.Destination, "/"), unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // nothing in the image there
	}
	if err != nil {
		return fmt.Errorf("copy into volume %s: open %s in container %s: %w", vm.Name, vm.Destination, id, err)
	}
	defer unix.Close(fd)
	return s.o.Volumes.Populate(ctx, vm.Name, fmt.Sprintf("/proc/self/fd/%d", fd))
}

// unmountVolumes says a container stopped using its volumes; failures
// are logged, for it runs after the point of no return.
func (s *Service) unmountVolumes(id string, vols []volumeMount) {
	if s.o.Volumes == nil {
		return
	}
	for _, vm := range vols {
		if err := s.o.Volumes.Unmount(context.Background(), vm.Name, id); err != nil {
			s.log.Warn("unmount volume", "container", id, "volume", vm.Name, "error", err)
		}
	}
}

// remountVolumes declares the volumes of a container found running at
// restore as mounted by it.
func (s *Service) remountVolumes(ctx context.Context, c *ctr) {
	if s.o.Volumes == nil {
		return
	}
	for _, vm := range c.volumes() {
		if _, err := s.o.Volumes.Mount(ctx, vm.Name, c.id); err != nil {
			s.log.Warn("volume of a restored container", "container", c.id, "volume", vm.Name, "error", err)
		}
	}
}

// releaseVolumes drops a removed container's references; with anonymous
// (docker rm -v, --rm), its anonymous volumes go too, unless another
// container uses them.
func (s *Service) releaseVolumes(ctx context.Context, id string, vols []volumeMount, anonymous bool) {
	if s.o.Volumes == nil {
		return
	}
	for _, vm := range vols {
		s.o.Volumes.Unuse(vm.Name, id)
		if !anonymous || !vm.Anonymous {
			continue
		}
		if err := s.o.Volumes.Remove(ctx, vm.Name, true); err != nil && !errdefs.IsConflict(err) {
			s.log.Warn("remove anonymous volume", "container", id, "volume", vm.Name, "error", err)
		}
	}
}

// containerMounts are a container's binds, mounts and volumes (with
// their host paths) as inspect and docker ps show them.
func containerMounts(r *record) []container.MountPoint {
	out := slices.DeleteFunc(mountPoints(r.HostConfig), func(m container.MountPoint) bool { return m.Type == mount.TypeVolume })
	return append(out, volumeMountPoints(r.Volumes)...)
}

// volumeMountPoints are a record's volumes as inspect shows them.
func volumeMountPoints(vols []volumeMount) []container.MountPoint {
	var out []container.MountPoint
	for _, vm := range vols {
		out = append(out, container.MountPoint{Type: mount.TypeVolume, Name: vm.Name, Source: vm.Source,
			Destination: vm.Destination, Driver: "local", Mode: vm.Mode, RW: vm.RW})
	}
	return out
}

// usesVolume reports whether the record mounts the volume named or a
// volume at the destination given (docker ps --filter volume=).
func usesVolume(r *record, v string) bool {
	return slices.ContainsFunc(r.Volumes, func(vm volumeMount) bool {
		return vm.Name == v || vm.Destination == path.Clean(v)
	}) || bindDests(r)[path.Clean(v)]
}

// bindDests are the destinations and sources of a record's binds.
func bindDests(r *record) map[string]bool {
	out := map[string]bool{}
	for _, m := range mountPoints(r.HostConfig) {
		if m.Type == mount.TypeBind {
			out[m.Destination], out[m.Source] = true, true
		}
	}
	return out
}

// volumes returns the container's volume mounts.
func (c *ctr) volumes() []volumeMount {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.rec.Volumes)
}
