package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/cgroups"
)

// newCgroup opens the container's cgroup. Without linux.cgroupsPath the
// container gets /<id> at the top of each hierarchy, as with runc.
func newCgroup(opts CreateOpts, s *specs.Spec) (cgroups.Manager, error) {
	path := s.Linux.CgroupsPath
	if path == "" {
		path = "/" + opts.ID
	}
	return cgroups.New(cgroups.Options{Root: opts.CgroupRoot, Path: path, ID: opts.ID})
}

// cgroup reopens the container's cgroup from its persisted paths.
func (c *Container) cgroup() (cgroups.Manager, error) {
	if c.cg != nil {
		return c.cg, nil
	}
	if len(c.CgroupPaths) == 0 {
		return nil, fmt.Errorf("container %s has no cgroup", c.ID)
	}
	path := "/" + c.ID
	if c.Spec != nil && c.Spec.Linux != nil && c.Spec.Linux.CgroupsPath != "" {
		path = c.Spec.Linux.CgroupsPath
	}
	return cgroups.Load(cgroups.Options{Root: c.CgroupRoot, Path: path, ID: c.ID}, c.CgroupPaths)
}

func (c *Container) destroyCgroup() error {
	m, err := c.cgroup()
	if err != nil {
		return nil
	}
	return m.Destroy()
}

// withDefaultDevices returns the resources to set, with the default
// devices, /dev/pts, /dev/ptmx, /dev/console and linux.devices allowed after
// the config's own device rules, as containers expect to use them.
func withDefaultDevices(s *specs.Spec) *specs.LinuxResources {
	r := s.Linux.Resources
	if r == nil || len(r.Devices) == 0 {
		return r
	}
	out := *r
	out.Devices = append([]specs.LinuxDeviceCgroup(nil), r.Devices...)
	allow := func(typ string, major, minor int64) {
		out.Devices = append(out.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: "rwm"})
	}
	for _, d := range defaultDevices {
		allow("c", d.Major, d.Minor)
	}
	allow("c", 136, -1) // /dev/pts/*
	allow("c", 5, 2)    // /dev/ptmx
	allow("c", 5, 1)    // /dev/console
	for _, d := range s.Linux.Devices {
		t := d.Type
		if t == "u" {
			t = "c"
		}
		if t == "p" {
			continue
		}
		allow(t, d.Major, d.Minor)
	}
	return &out
}

// mountCgroup gives the container its own view of its cgroups at the
// destination (usually /sys/fs/cgroup). With a cgroup namespace and
// cgroup v2, a fresh cgroup2 mount shows the namespace's root; otherwise
// a tmpfs holds one bind mount of the container's directory per hierarchy,
// as /sys/fs/cgroup/<hierarchy> does on the host.
func mountCgroup(root *os.File, m specs.Mount, o mountOpts, cfg *initConfig) error {
	target, err := createInRoot(root, m.Destination, true)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	defer target.Close()
	flags := o.flags &^ unix.MS_RDONLY
	cgroot := cfg.CgroupRoot
	if cgroot == "" {
		cgroot = "/sys/fs/cgroup"
	}
	if v2, ok := cfg.CgroupPaths[""]; ok && len(cfg.CgroupPaths) == 1 {
		if cfg.NewCgroupns {
			err = unix.Mount("cgroup2", procFD(target), "cgroup2", o.flags, "")
		} else {
			err = unix.Mount(v2, procFD(target), "", unix.MS_BIND|unix.MS_REC, "")
			if err == nil && o.flags&^unix.MS_REC != 0 {
				err = remountInRoot(root, m.Destination, o.flags)
			}
		}
		if err != nil {
			return fmt.Errorf("mount cgroup2 on %s: %w", m.Destination, err)
		}
		return setMountAttrs(root, m.Destination, o)
	}
	if err := unix.Mount("tmpfs", procFD(target), "tmpfs", flags, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs for cgroups on %s: %w", m.Destination, err)
	}
	tdir, err := openInRoot(root, m.Destination, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	defer tdir.Close()
	done := map[string]bool{}
	for _, dir := range cfg.CgroupPaths {
		rel, err := filepath.Rel(cgroot, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		name, _, _ := strings.Cut(rel, "/")
		if done[name] {
			continue
		}
		done[name] = true
		sub := filepath.Join(m.Destination, name)
		t, err := createInRoot(root, sub, true)
		if err != nil {
			return fmt.Errorf("mount cgroup %s: %w", sub, err)
		}
		err = unix.Mount(dir, procFD(t), "", unix.MS_BIND|unix.MS_REC, "")
		t.Close()
		if err != nil {
			return fmt.Errorf("bind cgroup %s on %s: %w", dir, sub, err)
		}
		if err := remountInRoot(root, sub, o.flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return err
		}
		// Co-mounted controllers ("cpu,cpuacct") are also reachable by each name.
		if strings.Contains(name, ",") {
			for _, alias := range strings.Split(name, ",") {
				unix.Symlinkat(name, int(tdir.Fd()), alias)
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		if err := remountInRoot(root, m.Destination, o.flags); err != nil {
			return err
		}
	}
	return setMountAttrs(root, m.Destination, o)
}
