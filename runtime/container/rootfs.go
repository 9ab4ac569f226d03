package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// prepareRootfs runs in init, in the container's new mount namespace,
// before pivot_root: it makes the rootfs a private-ish mount point and
// mounts everything config.json lists into it, resolved inside the rootfs.
func prepareRootfs(cfg *initConfig) (devBound bool, err error) {
	s := cfg.Spec
	rootfs := s.Root.Path
	// 1. Stop mount events flowing from the container back to the host.
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if p, ok := propagationOpts[s.Linux.RootfsPropagation]; ok {
		prop = p
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return false, fmt.Errorf("set propagation of / in container: %w", err)
	}
	// 2. pivot_root refuses a new root whose parent mount is shared, and
	// a non-recursive (or shared) propagation leaves it shared. After a
	// recursive private, slave or unbindable (the default: rslave) no mount
	// is shared, and the mount table need not be read.
	if prop&unix.MS_REC == 0 || prop&unix.MS_SHARED != 0 {
		if err := makeParentSlave(rootfs); err != nil {
			return false, err
		}
	}
	// 3. The rootfs must be a mount point of its own.
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return false, fmt.Errorf("bind rootfs %s: %w", rootfs, err)
	}
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer root.Close()
	for _, m := range s.Mounts {
		if err := mountInRoot(root, m, cfg); err != nil {
			return false, err
		}
		if filepath.Clean(m.Destination) == "/dev" && isBind(m) {
			devBound = true
		}
	}
	if err := createDevices(root, s.Linux.Devices, !devBound, cfg.Userns); err != nil {
		return false, err
	}
	if cwd, err := mkdirAllInRoot(root, s.Process.Cwd, 0o755); err != nil {
		return false, fmt.Errorf("create cwd %s: %w", s.Process.Cwd, err)
	} else {
		cwd.Close()
	}
	return devBound, nil
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// mountInRoot mounts m onto its destination resolved inside root.
func mountInRoot(root *os.File, m specs.Mount, cfg *initConfig) error {
	o, err := parseMountOptions(m.Options)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	if m.Type == "cgroup" {
		return mountCgroup(root, m, o, cfg)
	}
	bind := isBind(m)
	src := m.Source
	if bind && !filepath.IsAbs(src) {
		src = filepath.Join(cfg.Bundle, src)
	}
	dir := true
	if bind {
		fi, err := os.Stat(src)
		if err != nil {
			return fmt.Errorf("mount %s: bind source: %w", m.Destination, err)
		}
		dir = fi.IsDir()
	}
	if m.Destination == "/proc" || strings.HasPrefix(m.Destination, "/proc/") {
		if err := checkProcDest(root, m.Destination); err != nil {
			return err
		}
	}
	target, err := createInRoot(root, m.Destination, dir)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	defer target.Close()

	if bind {
		flags := o.flags | unix.MS_BIND
		if m.Type == "bind" && flags&unix.MS_REC == 0 && !hasOpt(m.Options, "bind") {
			flags |= unix.MS_REC
		}
		if err := unix.Mount(src, procFD(target), "", flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
			return fmt.Errorf("bind mount %s on %s: %w", src, m.Destination, err)
		}
		if rest := flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); rest != 0 {
			if err := remountInRoot(root, m.Destination, rest); err != nil {
				return err
			}
		}
	} else {
		err := mountFS(root, m, o, target)
		if err != nil {
			return err
		}
	}
	return setMountAttrs(root, m.Destination, o)
}

func hasOpt(opts []string, want string) bool {
	for _, o := range opts {
		if o == want {
			return true
		}
	}
	return false
}

// mountFS mounts a filesystem (proc, sysfs, tmpfs, devpts, mqueue, …),
// falling back to binding the host's instance where a user namespace
// may not mount it (sysfs without a network namespace, mqueue without an
// ipc namespace).
func mountFS(root *os.File, m specs.Mount, o mountOpts, target *os.File) error {
	var saved []string
	if o.copyUp && m.Type == "tmpfs" {
		saved = listDir(procFD(target))
	}
	var copyFrom *os.File
	if len(saved) > 0 {
		var err error
		copyFrom, err = os.Open(procFD(target))
		if err != nil {
			return fmt.Errorf("mount %s: tmpcopyup: %w", m.Destination, err)
		}
		defer copyFrom.Close()
	}
	err := unix.Mount(m.Source, procFD(target), m.Type, o.flags, o.dataString())
	if errors.Is(err, unix.EPERM) && (m.Type == "sysfs" || m.Type == "mqueue") {
		host := map[string]string{"sysfs": "/sys", "mqueue": "/dev/mqueue"}[m.Type]
		err = unix.Mount(host, procFD(target), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil && o.flags&^unix.MS_REC != 0 {
			err = unix.Mount("", procFD(target), "", unix.MS_BIND|unix.MS_REMOUNT|o.flags, "")
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, m.Type, m.Destination, err)
	}
	if copyFrom != nil {
		if err := copyUp(root, copyFrom, m.Destination); err != nil {
			return err
		}
	}
	return nil
}

// remountInRoot applies per-mount flags (ro, nosuid, …) to a bind mount.
// In a user namespace the kernel refuses to clear flags locked by the
// source mount, so those are kept.
func remountInRoot(root *os.File, dest string, flags uintptr) error {
	t, err := openInRoot(root, dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("remount %s: %w", dest, err)
	}
	defer t.Close()
	err = unix.Mount("", procFD(t), "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
	if errors.Is(err, unix.EPERM) {
		var st unix.Statfs_t
		if unix.Fstatfs(int(t.Fd()), &st) == nil {
			locked := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY |
				unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
			err = unix.Mount("", procFD(t), "", unix.MS_BIND|unix.MS_REMOUNT|flags|locked, "")
		}
	}
	if err != nil {
		return fmt.Errorf("remount %s with flags 0x%x: %w", dest, flags, err)
	}
	return nil
}

// setMountAttrs applies propagation and recursive attributes.
func setMountAttrs(root *os.File, dest string, o mountOpts) error {
	if len(o.propagation) == 0 && o.attr == (attrOpt{}) {
		return nil
	}
	t, err := openInRoot(root, dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("mount %s: %w", dest, err)
	}
	defer t.Close()
	for _, p := range o.propagation {
		if err := unix.Mount("", procFD(t), "", p, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", dest, err)
		}
	}
	if o.attr != (attrOpt{}) {
		a := unix.MountAttr{Attr_set: o.attr.set, Attr_clr: o.attr.clr}
		if err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &a); err != nil {
			return fmt.Errorf("set recursive attributes of %s: %w", dest, err)
		}
	}
	return nil
}

// checkProcDest refuses to mount over /proc with anything but a real
// procfs directory in the image: a symlink there could redirect later
// /proc/self look-ups (CVE-2019-16884 class).
func checkProcDest(root *os.File, dest string) error {
	f, err := openInRoot(root, dest, unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mount %s: %w", dest, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("mount %s: %w", dest, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("mount %s: destination is a symlink in the rootfs", dest)
	}
	return nil
}

// makeParentSlave makes the mount holding rootfs a slave when it is
// shared, which pivot_root needs: the bind of the rootfs then sends no
// mount events to the host but still receives them, as rootfsPropagation
// "slave" asks; init sets the configured propagation of / after pivot_root.
func makeParentSlave(rootfs string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	best, shared := "", false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		mp := fields[4]
		// ">=": the last of several mounts stacked on one point is on top.
		if (rootfs == mp || strings.HasPrefix(rootfs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, shared = mp, false
			for _, opt := range fields[6:] {
				if opt == "-" {
					break
				}
				shared = shared || strings.HasPrefix(opt, "shared:")
			}
		}
	}
	if !shared {
		return nil
	}
	if err := unix.Mount("", best, "", unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make %s a slave mount: %w", best, err)
	}
	return nil
}

func listDir(path string) []string {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	return out
}
