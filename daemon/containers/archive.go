package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/mount"
)

// ExtractOptions tune ExtractToDir, as PUT /containers/{id}/archive's
// query does.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory and the reverse.
	NoOverwriteDirNonDir bool
	// CopyUIDGID gives every entry the container's user (Config.User)
	// instead of the owners in the tar, as dockerd does; without a user
	// the tar's owners stay.
	CopyUIDGID bool
}

// StatPath describes a path in a container, as HEAD
// /containers/{id}/archive: without following a final symlink, unless
// the path ends in "/" or "/."; a symlink's LinkTarget is where it
// leads in the container.
func (s *Service) StatPath(ctx context.Context, ref, p string) (container.PathStat, error) {
	var out container.PathStat
	err := s.inContainerFS(ctx, ref, func(v *fsView) error {
		t, err := v.resolve(p)
		if err != nil {
			return err
		}
		defer t.close()
		out, err = v.stat(t)
		return err
	})
	return out, err
}

// ArchivePath writes a path of a container as a tar stream, as GET
// /containers/{id}/archive: start gets the path's stat (for the
// response header) and returns where the tar goes. The top entry is
// named as the path's last element ("." for "dir/.").
func (s *Service) ArchivePath(ctx context.Context, ref, p string, start func(container.PathStat) (io.Writer, error)) error {
	var c *ctr
	err := s.inContainerFS(ctx, ref, func(v *fsView) error {
		c = v.c
		t, err := v.resolve(p)
		if err != nil {
			return err
		}
		defer t.close()
		st, err := v.stat(t)
		if err != nil {
			return err
		}
		w, err := start(st)
		if err != nil {
			return err
		}
		name := t.name
		if name == "/" {
			name = "."
		}
		return archive.TarEntry(ctx, w, fdPath(t.fd), t.base, name)
	})
	if err != nil {
		return err
	}
	s.publish(c, events.ActionArchivePath, nil)
	return nil
}

// ExtractToDir unpacks the tar r into the directory p of a container,
// as PUT /containers/{id}/archive. The tar is a set of files, not a
// layer: ".wh." names are plain files. A path on a read-only mount (the
// rootfs of a --read-only container, a read-only bind) is refused
// before anything is written.
func (s *Service) ExtractToDir(ctx context.Context, ref, p string, r io.Reader, o ExtractOptions) error {
	var c *ctr
	err := s.inContainerFS(ctx, ref, func(v *fsView) error {
		c = v.c
		fd, err := v.open(path.Join("/", p), 0)
		if err != nil {
			return v.pathErr(p, err)
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fmt.Errorf("stat %s in container %s: %w", p, v.c.id, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return errorf(errdefs.ErrInvalidArgument, "extraction point is not a directory")
		}
		if err := v.writable(fd, &st); err != nil {
			return err
		}
		opts := archive.ApplyOptions{Whiteouts: archive.Plain, NoReplaceDirKind: o.NoOverwriteDirNonDir}
		if o.CopyUIDGID && v.user != "" {
			u, err := lookupUserInRoot(v.rootfs, v.user)
			if err != nil {
				return err
			}
			opts.Owner = &archive.Owner{UID: int(u.UID), GID: int(u.GID)}
		}
		if _, err := archive.Apply(ctx, fdPath(fd), r, opts); err != nil {
			if errors.Is(err, unix.EROFS) {
				return errorf(errdefs.ErrPermissionDenied, "mounted volume is marked read-only")
			}
			return fmt.Errorf("copy to %s in container %s: %w", p, v.c.id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.publish(c, events.ActionExtractToDir, nil)
	return nil
}

// fsView is a container's filesystem as its processes see it, less what
// the runtime mounts (proc, sys, dev, tmpfs): the rootfs with every bind
// mount of the container's spec (binds, volumes, /etc/hosts and the
// like) at its destination, in a private mount namespace (see
// inContainerFS). Paths resolve inside root with openat2(2)
// RESOLVE_IN_ROOT: a symlink in the container, absolute or climbing
// with "..", stays in the container, across its mounts.
type fsView struct {
	c        *ctr
	rootfs   string // the rootfs mount point, in the namespace
	root     int    // O_PATH descriptor of the container's root
	rootDev  uint64
	readOnly bool   // --read-only
	user     string // Config.User
}

// hostMount is a bind mount of a container's spec.
type hostMount struct {
	source, destination string
	rbind, ro           bool
}

// inContainerFS runs fn with a view of the container's filesystem. It
// holds the container's operation lock, so the container neither starts
// nor goes meanwhile. The view lives in a mount namespace of its own: a
// container that does not run has its layer mounted there, and the bind
// mounts are applied there, so nothing is mounted on the host and
// nothing is left behind if berthd dies halfway. A running container's
// live rootfs mount is used as it is (the namespace is a copy of the
// host's), so what is copied in is seen at once.
func (s *Service) inContainerFS(ctx context.Context, ref string, fn func(v *fsView) error) error {
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return err
	}
	defer c.unlock()
	c.mu.Lock()
	readOnly, user := c.rec.HostConfig.ReadonlyRootfs, c.rec.Config.User
	c.mu.Unlock()
	layer, err := s.o.Snapshots.Mounts(ctx, c.id)
	if err != nil {
		return fmt.Errorf("layer of container %s: %w", c.id, err)
	}
	binds, err := s.hostMounts(c.id)
	if err != nil {
		return err
	}
	rootfs := s.rootfs(c.id)
	return mount.Private(func() error {
		mounted, err := isMountPoint(rootfs)
		if err != nil {
			return err
		}
		if !mounted {
			if err := mount.All(layer, rootfs); err != nil {
				return fmt.Errorf("mount the layer of container %s: %w", c.id, err)
			}
		}
		root, err := openRoot(rootfs)
		if err != nil {
			return err
		}
		if readOnly {
			err = mount.BindAt(rootfs, root, false, true)
			unix.Close(root)
			if err != nil {
				return err
			}
			if root, err = openRoot(rootfs); err != nil {
				return err
			}
		}
		v := &fsView{c: c, rootfs: rootfs, root: root, readOnly: readOnly, user: user}
		defer unix.Close(v.root)
		for _, b := range binds {
			fd, err := v.open(b.destination, 0)
			if err != nil {
				// Not made yet: the runtime makes mount points at the
				// first start.
				continue
			}
			err = mount.BindAt(b.source, fd, b.rbind, b.ro)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("container %s: mount %s: %w", c.id, b.destination, err)
			}
		}
		var st unix.Stat_t
		if err := unix.Fstat(v.root, &st); err != nil {
			return fmt.Errorf("stat the rootfs of container %s: %w", c.id, err)
		}
		v.rootDev = st.Dev
		return fn(v)
	})
}

// hostMounts reads the bind mounts from the container's config.json:
// whatever has a source on the host, whoever put it there (binds,
// volumes, the network files).
func (s *Service) hostMounts(id string) ([]hostMount, error) {
	sp, err := s.readSpec(id)
	if err != nil {
		return nil, err
	}
	var out []hostMount
	for _, m := range sp.Mounts {
		h := hostMount{source: m.Source, destination: m.Destination}
		bind := m.Type == "bind"
		for _, o := range m.Options {
			switch o {
			case "bind":
				bind = true
			case "rbind":
				bind, h.rbind = true, true
			case "ro":
				h.ro = true
			}
		}
		if bind && filepath.IsAbs(m.Source) && path.IsAbs(m.Destination) {
			out = append(out, h)
		}
	}
	return out, nil
}

// readSpec reads the container's config.json.
func (s *Service) readSpec(id string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(s.bundleDir(id), "config.json"))
	if err != nil {
		return nil, fmt.Errorf("spec of container %s: %w", id, err)
	}
	var sp specs.Spec
	if err := json.Unmarshal(data, &sp); err != nil {
		return nil, fmt.Errorf("spec of container %s: %w", id, err)
	}
	return &sp, nil
}

// isMountPoint reports whether something is mounted on dir: its device
// differs from its parent's.
func isMountPoint(dir string) (bool, error) {
	var st, pst unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return false, fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := unix.Lstat(filepath.Dir(dir), &pst); err != nil {
		return false, fmt.Errorf("stat %s: %w", filepath.Dir(dir), err)
	}
	return st.Dev != pst.Dev, nil
}

func openRoot(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	return fd, nil
}

// fdPath names an open descriptor for calls that take a path; the thread
// is the one whose mount namespace the descriptor was opened in.
func fdPath(fd int) string { return "/proc/thread-self/fd/" + strconv.Itoa(fd) }

// open resolves a path of the container inside its root, following
// symlinks (the final one too) as the container would, and returns an
// O_PATH descriptor.
func (v *fsView) open(p string, flags uint64) (int, error) {
	return fsutil.OpenInRoot(v.root, p, flags)
}

// pathErr is dockerd's answer for a path that cannot be resolved.
func (v *fsView) pathErr(p string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errorf(errdefs.ErrNotFound, "Could not find the file %s in container %s", p, v.c.rec.Name)
	}
	if errors.Is(err, unix.ELOOP) {
		return errorf(errdefs.ErrInvalidArgument, "too many levels of symbolic links: %s", p)
	}
	return fmt.Errorf("resolve %s in container %s: %w", p, v.c.id, err)
}

// cpTarget is a resolved path: the entry base in the directory fd, or fd
// itself when base is ".".
type cpTarget struct {
	abs  string // the clean absolute path
	name string // its name as docker gives it: the last element, "." for "dir/."
	fd   int
	base string
}

func (t *cpTarget) close() { unix.Close(t.fd) }

// resolve finds a path as docker cp means it: the parents followed
// in the container, the last element not, unless the path ends in "/" or
// "/." (then it must be a directory).
func (v *fsView) resolve(p string) (*cpTarget, error) {
	abs := path.Join("/", p)
	dot := p == "." || strings.HasSuffix(p, "/.")
	t := &cpTarget{abs: abs, name: path.Base(abs), base: "."}
	var err error
	if dot || strings.HasSuffix(p, "/") || abs == "/" {
		if dot {
			t.name = "."
		}
		t.fd, err = v.open(abs, unix.O_DIRECTORY)
	} else {
		t.fd, err = v.open(path.Dir(abs), unix.O_DIRECTORY)
		t.base = path.Base(abs)
		if err == nil {
			var st unix.Stat_t
			if err = unix.Fstatat(t.fd, t.base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				unix.Close(t.fd)
			}
		}
	}
	if err != nil {
		return nil, v.pathErr(p, err)
	}
	return t, nil
}

// stat describes a resolved path as the Engine API does.
func (v *fsView) stat(t *cpTarget) (container.PathStat, error) {
	var st unix.Stat_t
	var err error
	if t.base == "." {
		err = unix.Fstatat(t.fd, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	} else {
		err = unix.Fstatat(t.fd, t.base, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return container.PathStat{}, v.pathErr(t.abs, err)
	}
	out := container.PathStat{
		Name:  t.name,
		Size:  st.Size,
		Mode:  fileMode(st.Mode),
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
	}
	if out.Mode&fs.ModeSymlink != 0 {
		out.LinkTarget = v.linkTarget(t)
	}
	return out, nil
}

// linkTarget is where the symlink t leads in the container: resolved all
// the way when it can be, else its target taken literally.
func (v *fsView) linkTarget(t *cpTarget) string {
	if fd, err := v.open(t.abs, 0); err == nil {
		defer unix.Close(fd)
		if host, err := os.Readlink(fdPath(fd)); err == nil {
			if rel, ok := strings.CutPrefix(host, v.rootfs); ok && (rel == "" || rel[0] == '/') {
				return path.Join("/", rel)
			}
		}
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(t.fd, t.base, buf)
	if err != nil {
		return ""
	}
	l := string(buf[:n])
	if !path.IsAbs(l) {
		l = path.Join(path.Dir(t.abs), l)
	}
	return path.Clean(l)
}

// writable refuses, as dockerd does, to extract onto a read-only mount.
func (v *fsView) writable(fd int, st *unix.Stat_t) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return fmt.Errorf("statfs in container %s: %w", v.c.id, err)
	}
	if sfs.Flags&unix.ST_RDONLY == 0 {
		return nil
	}
	if v.readOnly && st.Dev == v.rootDev {
		return errorf(errdefs.ErrPermissionDenied, "container rootfs is marked read-only")
	}
	return errorf(errdefs.ErrPermissionDenied, "mounted volume is marked read-only")
}

// fileMode converts a stat(2) mode to Go's, as os.Lstat does.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
