package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Options say where the cgroupfs is and which cgroup a container gets.
type Options struct {
	// Root is where the cgroupfs is mounted; "" = "/sys/fs/cgroup".
	Root string
	// Mountinfo is read once to find the hierarchies under Root;
	// "" = "/proc/self/mountinfo".
	Mountinfo string
	// ProcCgroup is the runtime's own /proc/self/cgroup, read only for a
	// relative Path; "" = "/proc/self/cgroup".
	ProcCgroup string
	// Path is the OCI linux.cgroupsPath. An absolute path ("/a/b") is used as
	// is in every hierarchy. A relative one ("a/b") goes below the runtime's
	// own cgroup of each hierarchy, as runc does. "" means ID relative to
	// the runtime's own cgroup (runc's default). "slice:prefix:name", the
	// syntax engines pass when configured for systemd, is translated to the
	// directory systemd would use: "system.slice:docker:abc" →
	// "/system.slice/docker-abc.scope".
	Path string
	// ID is the container id, used for an empty Path.
	ID string
	// Systemd asks for the systemd cgroup driver, which is not implemented.
	Systemd bool
}

// ErrSystemd is returned by New for Options.Systemd.
var ErrSystemd = errors.New("systemd cgroup driver is not supported yet; run without --systemd-cgroup")

// New resolves the container's cgroup in every mounted hierarchy. It reads
// mountinfo once (and /proc/self/cgroup for a relative Path) and touches
// nothing: Apply creates the directories.
func New(o Options) (Manager, error) {
	if o.Systemd {
		return nil, ErrSystemd
	}
	o.Root = rootOrDefault(o.Root)
	l, err := detect(o.Root, o.Mountinfo)
	if err != nil {
		return nil, err
	}
	cg, rel, err := cgroupPath(o.Path, o.ID)
	if err != nil {
		return nil, err
	}
	var own map[string]string
	if rel {
		pc := o.ProcCgroup
		if pc == "" {
			pc = "/proc/self/cgroup"
		}
		if own, err = ownCgroups(pc); err != nil {
			return nil, err
		}
	}
	m := newManager(o.Root, l.mode())
	for key, mnt := range l.v1 {
		m.v1[key] = hier{mount: mnt.dir, dir: hierarchyDir(mnt, cg, rel, own[key])}
	}
	if l.unified != nil {
		m.v2 = hier{mount: l.unified.dir, dir: hierarchyDir(*l.unified, cg, rel, own[""])}
	}
	return m, nil
}

// Load reopens the cgroup of a container from the Paths() it had, for
// commands run after create (pause, update, events, ps, delete). Every path
// must lie inside the hierarchy its key names.
func Load(o Options, paths map[string]string) (Manager, error) {
	if o.Systemd {
		return nil, ErrSystemd
	}
	if len(paths) == 0 {
		return nil, errors.New("load cgroup: no paths")
	}
	o.Root = rootOrDefault(o.Root)
	l, err := detect(o.Root, o.Mountinfo)
	if err != nil {
		return nil, err
	}
	m := newManager(o.Root, l.mode())
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		dir := filepath.Clean(paths[key])
		var mnt *mount
		if key == "" {
			mnt = l.unified
		} else if v, ok := l.v1[key]; ok {
			mnt = &v
		}
		if mnt == nil {
			return nil, fmt.Errorf("load cgroup %s: hierarchy %q is not mounted under %s", dir, key, o.Root)
		}
		if !strings.HasPrefix(dir, mnt.dir+"/") {
			return nil, fmt.Errorf("load cgroup %s: not inside the %q hierarchy at %s", dir, key, mnt.dir)
		}
		if key == "" {
			m.v2 = hier{mount: mnt.dir, dir: dir}
		} else {
			m.v1[key] = hier{mount: mnt.dir, dir: dir}
		}
	}
	return m, nil
}

func rootOrDefault(root string) string {
	if root == "" {
		return "/sys/fs/cgroup"
	}
	return filepath.Clean(root)
}
