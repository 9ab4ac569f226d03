package spec

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultMounts are Docker's: the kernel filesystems every container gets.
func defaultMounts(shmSize int64) []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(shmSize, 10)}},
	}
}

// userMount is a mount the request (or the daemon for it) adds.
type userMount struct {
	specs.Mount
	// volume is set for a volume mount, whose Source the VolumeFunc fills.
	volume *volumeReq
	// propagation is the bind's, for the rootfs propagation rule.
	propagation string
}

type volumeReq struct {
	name string
	opts *mount.VolumeOptions
}

// mounts builds the mount list: Docker's defaults less those the request
// replaces, the init binary, then the request's binds, mounts, tmpfs and
// volumes with the network files and the IPC mount, parents before
// children.
func (b *builder) mounts() error {
	ums, err := b.userMounts()
	if err != nil {
		return err
	}
	slices.SortStableFunc(ums, func(x, y userMount) int {
		return depth(x.Destination) - depth(y.Destination)
	})
	replaced := map[string]bool{}
	for _, m := range ums {
		replaced[m.Destination] = true
	}
	var out []specs.Mount
	for _, m := range defaultMounts(b.hc.ShmSize) {
		switch {
		case replaced[m.Destination]:
			continue
		case replaced["/dev"] && strings.HasPrefix(m.Destination, "/dev/"):
			continue
		case m.Destination == "/dev/shm" && b.hc.IpcMode.IsNone():
			continue
		}
		if b.hc.ReadonlyRootfs && !slices.Contains([]string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"}, m.Destination) {
			m.Options = appendOnce(m.Options, "ro")
		}
		switch {
		case m.Destination == "/sys" && b.hc.Privileged:
			m.Options = without(m.Options, "ro")
		case m.Type == "cgroup" && (b.hc.Privileged || b.sec.writableCgroups):
			m.Options = without(m.Options, "ro")
		}
		out = append(out, m)
	}
	if b.initEnabled() {
		out = append(out, specs.Mount{Destination: InitPath, Type: "bind", Source: b.o.initBinary, Options: []string{"bind", "ro"}})
	}
	b.s.Linux.RootfsPropagation = "rprivate"
	for _, m := range ums {
		switch m.propagation {
		case "shared", "rshared":
			b.s.Linux.RootfsPropagation = "shared"
		case "slave", "rslave":
			if b.s.Linux.RootfsPropagation != "shared" {
				b.s.Linux.RootfsPropagation = "rslave"
			}
		}
		if m.volume != nil {
			b.volumeMounts = append(b.volumeMounts, len(out))
			b.volumeReqs = append(b.volumeReqs, *m.volume)
		}
		out = append(out, m.Mount)
	}
	b.s.Mounts = out
	return nil
}

// userMounts collects the request's mounts, refusing two at one place.
func (b *builder) userMounts() ([]userMount, error) {
	var ums []userMount
	seen := map[string]bool{}
	add := func(m userMount) error {
		if seen[m.Destination] {
			return invalidf("duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		ums = append(ums, m)
		return nil
	}
	for _, raw := range b.hc.Binds {
		m, err := b.parseBind(raw)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, am := range b.hc.Mounts {
		m, err := b.apiMount(am)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, dest := range slices.Sorted(maps.Keys(b.hc.Tmpfs)) {
		d, err := cleanDest(dest)
		if err != nil {
			return nil, err
		}
		m, err := tmpfsMount(d, b.hc.Tmpfs[dest])
		if err != nil {
			return nil, err
		}
		if err := add(userMount{Mount: m}); err != nil {
			return nil, err
		}
	}
	for _, dest := range slices.Sorted(maps.Keys(b.cfg.Volumes)) {
		d, err := cleanDest(dest)
		if err != nil {
			return nil, invalidWrap(err, "invalid volume %s: %v", dest, err)
		}
		if seen[d] {
			continue
		}
		if b.o.volumes == nil {
			b.warn("volume " + d + " is not backed by a volume (volumes are not supported yet): its data stays in the container's writable layer")
			continue
		}
		_ = add(userMount{Mount: specs.Mount{Destination: d, Type: "bind", Options: b.bindOptions(true, false, "rprivate", mount.BindOptions{})},
			volume: &volumeReq{}, propagation: "rprivate"})
	}
	for _, f := range b.networkFiles() {
		if !seen[f.Destination] {
			_ = add(userMount{Mount: f, propagation: "rprivate"})
		}
	}
	if m, ok := b.ipcMount(); ok && !seen[m.Destination] {
		_ = add(userMount{Mount: m, propagation: "rprivate"})
	}
	return ums, nil
}

// networkFiles binds the hosts, hostname and resolv.conf the caller wrote,
// read-only when the rootfs is.
func (b *builder) networkFiles() []specs.Mount {
	var out []specs.Mount
	for _, f := range []struct{ src, dst string }{
		{b.in.Files.ResolvConf, "/etc/resolv.conf"},
		{b.in.Files.Hostname, "/etc/hostname"},
		{b.in.Files.Hosts, "/etc/hosts"},
	} {
		if f.src == "" {
			continue
		}
		opts := []string{"rbind"}
		if b.hc.ReadonlyRootfs {
			opts = append(opts, "ro")
		}
		out = append(out, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: append(opts, "rprivate")})
	}
	return out
}

// ipcMount is /dev/shm from outside the container: the host's with
// --ipc host, the shareable tmpfs the caller prepared (ShmPath) with
// --ipc shareable or container:ID.
func (b *builder) ipcMount() (specs.Mount, bool) {
	src := ""
	switch m := b.hc.IpcMode; {
	case m.IsHost():
		src = "/dev/shm"
	case m.IsShareable() || m.IsContainer():
		src = b.in.ShmPath
	}
	if src == "" {
		return specs.Mount{}, false
	}
	return specs.Mount{Destination: "/dev/shm", Type: "bind", Source: src, Options: []string{"rbind", "rprivate"}}, true
}

// bindOptions are a bind's spec options: rbind (or bind), ro (plus rro,
// read-only submounts too, where the kernel can), propagation.
func (b *builder) bindOptions(rw, nonRecursive bool, propagation string, bo mount.BindOptions) []string {
	opts := []string{"rbind"}
	if nonRecursive {
		opts[0] = "bind"
	}
	if !rw {
		opts = append(opts, "ro")
		if !nonRecursive && !bo.ReadOnlyNonRecursive && b.o.host.RecursiveReadonly {
			opts = append(opts, "rro")
		}
	}
	if propagation != "" {
		opts = append(opts, propagation)
	}
	return opts
}

// cleanDest checks a mount destination: absolute, not "/", no ".."
// element; it returns the cleaned path.
func cleanDest(d string) (string, error) {
	if !strings.HasPrefix(d, "/") {
		return "", invalidf("invalid mount path: '%s' mount path must be absolute", d)
	}
	if strings.IndexByte(d, 0) >= 0 {
		return "", invalidf("invalid mount path: %q contains a NUL byte", d)
	}
	if slices.Contains(strings.Split(d, "/"), "..") {
		return "", invalidf("invalid mount path: '%s' must not contain '..'", d)
	}
	c := path.Clean(d)
	if c == "/" {
		return "", invalidf("invalid specification: destination can't be '/'")
	}
	return c, nil
}

func depth(p string) int { return strings.Count(path.Clean(p), "/") }

func appendOnce(opts []string, o string) []string {
	if slices.Contains(opts, o) {
		return opts
	}
	return append(slices.Clone(opts), o)
}

func without(opts []string, o string) []string {
	return slices.DeleteFunc(slices.Clone(opts), func(x string) bool { return x == o })
}
