package containers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/mount"
)

// Namespace modes that name another container (--network, --ipc and --pid
// container:NAME) join that container's namespaces by the /proc/PID/ns
// path of its init. The path changes with every run of either container,
// so create writes a placeholder into config.json and every start puts
// the target's current paths in, refusing (as dockerd) when the target
// does not run. The joined container depends on its target only at
// start: removing or stopping the target later leaves it running in the
// namespaces it holds, as with Docker.
//
// --ipc shareable gives the container a /dev/shm of its own that others
// can join: a tmpfs mounted on the host at DATA/containers/<id>/shm while
// the container runs, bound at /dev/shm of the container and of those
// that join its IPC namespace.

// placeholderNS stands in config.json for a namespace path that start
// fills in.
const placeholderNS = "/proc/0/ns/"

// shmDir is where a shareable /dev/shm is mounted on the host.
func (s *Service) shmDir(id string) string { return filepath.Join(s.bundleDir(id), "shm") }

// namespaceInput is what spec generation needs at create for the
// namespace modes: placeholders for the paths start fills in, and the
// /dev/shm to bind.
func (s *Service) namespaceInput(id string, hc *container.HostConfig) (map[specs.LinuxNamespaceType]string, string) {
	ns := map[specs.LinuxNamespaceType]string{}
	if hc.NetworkMode.IsContainer() {
		ns[specs.NetworkNamespace] = placeholderNS + "net"
	}
	if hc.IpcMode.IsContainer() {
		ns[specs.IPCNamespace] = placeholderNS + "ipc"
	}
	if hc.PidMode.IsContainer() {
		ns[specs.PIDNamespace] = placeholderNS + "pid"
	}
	return ns, s.shmDir(id)
}

// joinNamespaces prepares a start for the namespace modes: the paths of
// the target containers' namespaces (and their /dev/shm, hosts, hostname
// and resolv.conf) in config.json, and a shareable /dev/shm mounted. The
// caller unmounts the rootfs (and with it the /dev/shm) if the start
// fails.
func (s *Service) joinNamespaces(c *ctr, hc *container.HostConfig) error {
	if hc.IpcMode.IsShareable() {
		if err := s.mountShm(c.id, hc.ShmSize); err != nil {
			return err
		}
	}
	nm, im, pm := hc.NetworkMode, hc.IpcMode, hc.PidMode
	if !nm.IsContainer() && !im.IsContainer() && !pm.IsContainer() {
		return nil
	}
	path := filepath.Join(s.bundleDir(c.id), "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("start container %s: %w", c.id, err)
	}
	var sp specs.Spec
	if err := json.Unmarshal(data, &sp); err != nil || sp.Linux == nil {
		return fmt.Errorf("start container %s: decode config.json: %v: %w", c.id, err, errdefs.ErrDataLoss)
	}
	if nm.IsContainer() {
		t, err := s.joinTarget(c, nm.ConnectedContainer(), "network")
		if err != nil {
			return err
		}
		setNamespace(&sp, specs.NetworkNamespace, t.pid)
		// As dockerd: the target's name and its network files.
		f := s.netFilePaths(t.id)
		setMountSource(&sp, "/etc/hosts", f.Hosts)
		setMountSource(&sp, "/etc/hostname", f.Hostname)
		setMountSource(&sp, "/etc/resolv.conf", f.ResolvConf)
		sp.Hostname, sp.Domainname = t.hostname, t.domainname
	}
	if im.IsContainer() {
		t, err := s.joinTarget(c, im.Container(), "ipc")
		if err != nil {
			return err
		}
		setNamespace(&sp, specs.IPCNamespace, t.pid)
		setMountSource(&sp, "/dev/shm", s.shmDir(t.id))
	}
	if pm.IsContainer() {
		t, err := s.joinTarget(c, pm.Container(), "pid")
		if err != nil {
			return err
		}
		setNamespace(&sp, specs.PIDNamespace, t.pid)
	}
	out, err := json.Marshal(&sp)
	if err != nil {
		return fmt.Errorf("start container %s: encode config.json: %w", c.id, err)
	}
	return writeFileAtomic(path, out, 0o600)
}

// nsTarget is a running container whose namespaces another joins.
type nsTarget struct {
	id, hostname, domainname string
	pid                      int
}

// joinTarget finds the container named by a namespace mode and checks it
// can be joined, with dockerd's messages.
func (s *Service) joinTarget(c *ctr, ref, kind string) (nsTarget, error) {
	t, err := s.get(ref)
	if err != nil {
		switch kind {
		case "pid":
			return nsTarget{}, errorf(errdefs.ErrNotFound, "cannot join PID of a non running container: %s: %s", ref, err)
		case "ipc":
			return nsTarget{}, errorf(errdefs.ErrNotFound, "can't join IPC of container %s: %s", ref, err)
		}
		return nsTarget{}, err
	}
	if t == c {
		return nsTarget{}, errorf(errdefs.ErrInvalidArgument, "cannot join own %s namespace", kind)
	}
	t.mu.Lock()
	st, sh, hc, cfg := t.rec.State.Status, t.sh, t.rec.HostConfig, t.rec.Config
	t.mu.Unlock()
	switch {
	case st == container.StateRestarting:
		return nsTarget{}, errorf(errdefs.ErrConflict, "Container %s is restarting, wait until the container is running", t.id)
	case sh == nil || (st != container.StateRunning && st != container.StatePaused):
		if kind == "network" {
			return nsTarget{}, errorf(errdefs.ErrConflict, "cannot join network of a non running container: %s", ref)
		}
		return nsTarget{}, errorf(errdefs.ErrConflict, "container %s is not running", t.id)
	case kind == "ipc" && (hc == nil || !hc.IpcMode.IsShareable()):
		return nsTarget{}, errorf(errdefs.ErrConflict, "can't join IPC of container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", ref)
	}
	out := nsTarget{id: t.id, pid: sh.InitPid()}
	if cfg != nil {
		out.hostname, out.domainname = cfg.Hostname, cfg.Domainname
	}
	return out, nil
}

// setNamespace points the namespace of type typ at the one of pid.
func setNamespace(sp *specs.Spec, typ specs.LinuxNamespaceType, pid int) {
	name := map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "net", specs.IPCNamespace: "ipc", specs.PIDNamespace: "pid"}[typ]
	for i := range sp.Linux.Namespaces {
		if sp.Linux.Namespaces[i].Type == typ {
			sp.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(pid) + "/ns/" + name
		}
	}
}

// setMountSource changes the source of the bind mounted at dst.
func setMountSource(sp *specs.Spec, dst, src string) {
	for i := range sp.Mounts {
		if sp.Mounts[i].Destination == dst && sp.Mounts[i].Type == "bind" {
			sp.Mounts[i].Source = src
		}
	}
}

// mountShm mounts a shareable /dev/shm for the container, unless it is
// mounted already.
func (s *Service) mountShm(id string, size int64) error {
	dir := s.shmDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	if mps, err := mount.Under(dir); err == nil && len(mps) > 0 {
		return nil
	}
	opts := []string{"nosuid", "nodev", "noexec", "mode=1777"}
	if size > 0 {
		opts = append(opts, "size="+strconv.FormatInt(size, 10))
	}
	if err := mount.All([]mount.Mount{{Type: "tmpfs", Source: "shm", Options: opts}}, dir); err != nil {
		return fmt.Errorf("start container %s: shareable /dev/shm: %w", id, err)
	}
	return nil
}

// unmountShm takes a shareable /dev/shm off the host; those who joined it
// keep theirs.
func (s *Service) unmountShm(id string) {
	if err := mount.UnmountAll(s.shmDir(id)); err != nil && !os.IsNotExist(err) {
		s.log.Warn("unmount shareable /dev/shm", "container", id, "error", err)
	}
	_ = unix.Rmdir(s.shmDir(id))
}
