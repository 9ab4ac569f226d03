package container

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The C init. For the common container (no user namespace, terminal,
// create-time hooks, labels, personality, seccomp listener, tmpcopyup or
// unusual propagation), the parent compiles what Go's createInit would do
// into a plan of plain data: each mount with its resolved source, flags,
// data, propagation and recursive attributes and the texts of its errors;
// the devices and /dev symlinks; pivot_root or the move; sysctls, read-only
// and masked paths, the read-only root, hostname and keyring; then the
// process (execblob.go). nsexec's constructor (runtime/nsexec/initplan.c)
// applies it in the container's namespaces, resolving every path inside the
// rootfs with openat2(RESOLVE_IN_ROOT), reports "ready" as Go's init does,
// waits on the exec fifo for start and execs the process: no Go runtime
// boots in the container. Anything the plan does not cover goes to Go's
// init, as does every container when BERTH_INIT=go (CreateOpts.GoInit).
//
// The plan is one packet on the sync socket, with the exec fifo passed
// along (SCM_RIGHTS); init started with _BERTH_PLAN=1 peeks at it, and
// a packet that is not a plan (Go's JSON config) goes to Go's init:
//
//	"BIN1", then records: tag u32, length u32, payload (native byte order)
//
// Process records are those of execblob.go. An op's payload is: number
// of ints u32, number of strings u32, the ints (u64), then the strings,
// each ending in NUL. Ops run in the order they come.
const (
	planHostMnt   = 32 // ints: dev, ino of the runtime's mount namespace (init refuses to run in it)
	planCgroupns  = 33 // unshare a cgroup namespace
	planMountPath = 34 // ints: flags; strings: source, target, fstype, data, error text
	planBindRoot  = 35 // strings: rootfs; bind it on itself and open it as the root of what follows
	planMount     = 36 // a mount inside the rootfs: see mountOp
	planDevice    = 37 // ints: mode, dev, uid, gid; strings: path, parent dir, base name
	planSymlink   = 38 // ints: ignore errors; strings: dir in rootfs, name, target, error text
	planMkdir     = 39 // strings: path in rootfs, error prefix
	planPivot     = 40 // ints: no pivot (move + chroot); strings: rootfs
	planSysctl    = 41 // strings: key, value, file
	planROPath    = 42 // strings: path
	planMask      = 43 // strings: path
	planRORoot    = 44 // remount / read-only
	planUTS       = 45 // ints: 0 hostname, 1 domainname; strings: name
	planKeyring   = 46 // strings: session keyring name
)

// How a planMount op gets its target.
const (
	targetNone    = iota // no mount: only the remount and attributes
	targetDir            // mkdir -p in the rootfs
	targetFile           // create the file in the rootfs
	targetBindSrc        // a directory or a file, as the bind source is
)

// maxPlanProps bounds the propagation options of one mount (initplan.h).
const maxPlanProps = 8

// mountOp is one planMount op: mountInRoot's steps (and mountCgroup's)
// with every decision taken.
type mountOp struct {
	target     int
	dest, src  string
	fstype     string
	data       string
	flags      uintptr
	fallback   string  // bound from the host when the mount gets EPERM (sysfs, mqueue)
	fbFlags    uintptr // remount flags after binding the fallback
	rest       uintptr // remount flags after the mount
	procCheck  bool    // refuse a symlink at the destination
	props      []uintptr
	attr       attrOpt
	tPrefix    string // error prefix when creating the target fails
	mPrefix    string // error text when the mount fails; "" for no mount
	restPrefix string // wraps a remount error
}

type planWriter struct {
	blobWriter
	bad bool // a string held a NUL byte: Go's init must handle it
}

func (w *planWriter) op(tag uint32, ints []uint64, strs ...string) {
	b := u32s(uint32(len(ints)), uint32(len(strs)))
	for _, v := range ints {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	for _, s := range strs {
		if strings.IndexByte(s, 0) >= 0 {
			w.bad = true
		}
		b = append(append(b, s...), 0)
	}
	w.rec(tag, b)
}

func (w *planWriter) mount(m mountOp) {
	ints := []uint64{uint64(m.target), uint64(m.flags), uint64(m.fbFlags), uint64(m.rest),
		m.attr.set, m.attr.clr, b2u(m.procCheck), uint64(len(m.props))}
	for _, p := range m.props {
		ints = append(ints, uint64(p))
	}
	if len(m.props) > maxPlanProps {
		w.bad = true
	}
	w.op(planMount, ints, m.dest, m.src, m.fstype, m.data, m.tPrefix, m.mPrefix, m.fallback, m.restPrefix)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// cInitEligible reports, before init starts, whether the C init can
// create this container; encodeInitPlan may still refuse it.
func cInitEligible(opts CreateOpts, s *specs.Spec, plan nsPlan) bool {
	if opts.GoInit || plan.userns || plan.newFlags&unix.CLONE_NEWNS == 0 {
		return false
	}
	if s.Process == nil || s.Process.Terminal || s.Linux == nil || s.Linux.MountLabel != "" {
		return false
	}
	if h := s.Hooks; h != nil && (hasCreateHooks(s) || len(h.CreateContainer) > 0 || len(h.StartContainer) > 0) {
		return false
	}
	return fastExecOK(s.Process, s)
}

// encodeInitPlan compiles the creation of a container for the C init, in
// the order createInit follows; ok is false when Go's init must do it.
// cfg is init's config (its CgroupPaths set); mntns identifies the
// runtime's own mount namespace.
func encodeInitPlan(cfg *initConfig, s *specs.Spec, mntns unix.Stat_t) (blob []byte, ok bool) {
	w := &planWriter{blobWriter: blobWriter{b: []byte("BIN1")}}
	w.op(planHostMnt, []uint64{mntns.Dev, mntns.Ino})
	if cfg.NewCgroupns {
		w.op(planCgroupns, nil)
	}
	// prepareRootfs.
	rootfs := s.Root.Path
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if p, ok := propagationOpts[s.Linux.RootfsPropagation]; ok {
		prop = p
	}
	if prop&unix.MS_REC == 0 || prop&unix.MS_SHARED != 0 {
		return nil, false // makeParentSlave reads the mount table: Go's init
	}
	w.op(planMountPath, []uint64{uint64(prop)}, "", "/", "", "", "set propagation of / in container")
	w.op(planBindRoot, nil, rootfs)
	devBound := false
	for _, m := range s.Mounts {
		if !w.specMount(m, cfg) {
			return nil, false
		}
		if filepath.Clean(m.Destination) == "/dev" && isBind(m) {
			devBound = true
		}
	}
	if !w.devices(s.Linux.Devices, !devBound) {
		return nil, false
	}
	w.op(planMkdir, nil, s.Process.Cwd, "create cwd "+s.Process.Cwd)
	// createInit, after the hooks (none: see cInitEligible).
	w.op(planPivot, []uint64{b2u(cfg.NoPivot)}, rootfs)
	if p, ok := propagationOpts[s.Linux.RootfsPropagation]; ok {
		w.op(planMountPath, []uint64{uint64(p)}, "", "/", "", "", fmt.Sprintf("set rootfsPropagation %s of /", s.Linux.RootfsPropagation))
	}
	// finishRootfs.
	keys := make([]string, 0, len(s.Linux.Sysctl))
	for k := range s.Linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.op(planSysctl, nil, k, s.Linux.Sysctl[k], "/proc/sys/"+strings.ReplaceAll(k, ".", "/"))
	}
	for _, p := range s.Linux.ReadonlyPaths {
		w.op(planROPath, nil, p)
	}
	for _, p := range s.Linux.MaskedPaths {
		w.op(planMask, nil, p)
	}
	if s.Root.Readonly {
		w.op(planRORoot, nil)
	}
	if s.Hostname != "" {
		w.op(planUTS, []uint64{0}, s.Hostname)
	}
	if s.Domainname != "" {
		w.op(planUTS, []uint64{1}, s.Domainname)
	}
	if !cfg.NoNewKeyring {
		w.op(planKeyring, nil, "_ses."+cfg.ID)
	}
	if err := w.process(s.Process, s, cfg.PreserveFDs); err != nil {
		return nil, false // Go's init reports it in its own words
	}
	if w.bad || len(w.b) > maxPacket {
		return nil, false
	}
	return w.b, true
}

// specMount adds the ops of mountInRoot for m.
func (w *planWriter) specMount(m specs.Mount, cfg *initConfig) bool {
	o, err := parseMountOptions(m.Options)
	if err != nil {
		return false // Go's init reports it
	}
	if m.Type == "cgroup" {
		w.cgroupMount(m, o, cfg)
		return true
	}
	if o.copyUp && m.Type == "tmpfs" {
		return false
	}
	op := mountOp{
		dest: m.Destination, props: o.propagation, attr: o.attr, tPrefix: "mount " + m.Destination,
		procCheck: m.Destination == "/proc" || strings.HasPrefix(m.Destination, "/proc/"),
	}
	if isBind(m) {
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(cfg.Bundle, src)
		}
		flags := o.flags | unix.MS_BIND
		if m.Type == "bind" && flags&unix.MS_REC == 0 && !hasOpt(m.Options, "bind") {
			flags |= unix.MS_REC
		}
		op.target, op.src = targetBindSrc, src
		op.flags = flags & (unix.MS_BIND | unix.MS_REC)
		op.rest = flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
		op.mPrefix = fmt.Sprintf("bind mount %s on %s", src, m.Destination)
	} else {
		op.target, op.src, op.fstype, op.flags, op.data = targetDir, m.Source, m.Type, o.flags, o.dataString()
		op.mPrefix = fmt.Sprintf("mount %s (%s) on %s", m.Source, m.Type, m.Destination)
		if host, ok := map[string]string{"sysfs": "/sys", "mqueue": "/dev/mqueue"}[m.Type]; ok {
			op.fallback = host
			if o.flags&^unix.MS_REC != 0 {
				op.fbFlags = o.flags
			}
		}
	}
	w.mount(op)
	return true
}

// cgroupMount adds the ops of mountCgroup.
func (w *planWriter) cgroupMount(m specs.Mount, o mountOpts, cfg *initConfig) {
	dest := m.Destination
	if v2, ok := cfg.CgroupPaths[""]; ok && len(cfg.CgroupPaths) == 1 {
		op := mountOp{target: targetDir, dest: dest, tPrefix: "mount " + dest, mPrefix: "mount cgroup2 on " + dest,
			props: o.propagation, attr: o.attr}
		if cfg.NewCgroupns {
			op.src, op.fstype, op.flags = "cgroup2", "cgroup2", o.flags
		} else {
			op.src, op.flags = v2, unix.MS_BIND|unix.MS_REC
			if o.flags&^unix.MS_REC != 0 {
				op.rest, op.restPrefix = o.flags, op.mPrefix
			}
		}
		w.mount(op)
		return
	}
	w.mount(mountOp{target: targetDir, dest: dest, src: "tmpfs", fstype: "tmpfs", flags: o.flags &^ unix.MS_RDONLY,
		data: "mode=755", tPrefix: "mount " + dest, mPrefix: "mount tmpfs for cgroups on " + dest})
	cgroot := cfg.CgroupRoot
	if cgroot == "" {
		cgroot = "/sys/fs/cgroup"
	}
	keys := make([]string, 0, len(cfg.CgroupPaths))
	for k := range cfg.CgroupPaths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	done := map[string]bool{}
	for _, k := range keys {
		dir := cfg.CgroupPaths[k]
		rel, err := filepath.Rel(cgroot, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		name, _, _ := strings.Cut(rel, "/")
		if done[name] {
			continue
		}
		done[name] = true
		sub := filepath.Join(dest, name)
		w.mount(mountOp{target: targetDir, dest: sub, src: dir, flags: unix.MS_BIND | unix.MS_REC,
			rest:    o.flags | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
			tPrefix: "mount cgroup " + sub, mPrefix: fmt.Sprintf("bind cgroup %s on %s", dir, sub)})
		// Co-mounted controllers ("cpu,cpuacct") are also reachable by each name.
		if strings.Contains(name, ",") {
			for _, alias := range strings.Split(name, ",") {
				w.op(planSymlink, []uint64{1}, dest, alias, name, "")
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		w.mount(mountOp{target: targetNone, dest: dest, rest: o.flags})
	}
	if len(o.propagation) > 0 || o.attr != (attrOpt{}) {
		w.mount(mountOp{target: targetNone, dest: dest, props: o.propagation, attr: o.attr})
	}
}

// devices adds the ops of createDevices (no user namespace: mknod).
func (w *planWriter) devices(devs []specs.LinuxDevice, defaults bool) bool {
	var all []specs.LinuxDevice
	if defaults {
		mode := os.FileMode(0o666)
		for _, d := range defaultDevices {
			d.FileMode = &mode
			all = append(all, d)
		}
	}
	all = append(all, devs...)
	for _, d := range all {
		var typ uint32
		switch d.Type {
		case "c", "u":
			typ = unix.S_IFCHR
		case "b":
			typ = unix.S_IFBLK
		case "p":
			typ = unix.S_IFIFO
		default:
			return false // Go's init reports it
		}
		mode := uint32(0o666)
		if d.FileMode != nil {
			mode = uint32(d.FileMode.Perm())
		}
		uid, gid := ^uint64(0), ^uint64(0)
		if d.UID != nil {
			uid = uint64(*d.UID)
		}
		if d.GID != nil {
			gid = uint64(*d.GID)
		}
		dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
		w.op(planDevice, []uint64{uint64(typ | mode), dev, uid, gid},
			d.Path, filepath.Dir(filepath.Clean(d.Path)), filepath.Base(d.Path))
	}
	if defaults {
		for _, l := range devSymlinks {
			w.op(planSymlink, []uint64{0}, "/dev", l.name, l.target, "symlink /dev/"+l.name)
		}
	}
	return true
}

// devSymlinks are the links createDevices makes in /dev.
var devSymlinks = []struct{ name, target string }{
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
}

// sendPlan sends the C init its plan, with the exec fifo and the tasks
// files of the v1 cgroups to join (fds, in that order).
func (c syncConn) sendPlan(blob []byte, fds []int) error {
	err := unix.Sendmsg(int(c.f.Fd()), blob, unix.UnixRights(fds...), nil, 0)
	if err == nil {
		return nil
	}
	if m, rerr := c.recv(); rerr != nil && m.Type == msgError {
		return rerr
	}
	return fmt.Errorf("send init plan: %w", err)
}
