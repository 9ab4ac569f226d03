package container

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/caps"
	"github.com/berth-dev/berth/runtime/cgroups"
	"github.com/berth-dev/berth/runtime/seccomp"
	"github.com/berth-dev/berth/runtime/spec"
)

type syscallIDMap = syscall.SysProcIDMap

// CreateOpts are the options of `create` (and of `run`).
type CreateOpts struct {
	Root          string // state root (--root)
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	SystemdCgroup bool
	CgroupRoot    string // cgroupfs root, "" = /sys/fs/cgroup (tests use a fake)

	// Stdio for init; nil means the runtime's own.
	Stdin, Stdout, Stderr *os.File
	// ConsoleConn, when set, is used instead of dialing ConsoleSocket (run -t).
	ConsoleConn *os.File
	// KeepChild leaves init as a child of this process, so the caller can
	// wait for it (run).
	KeepChild bool
	// GoInit makes Go's init create the container even where the C init
	// could (BERTH_INIT=go; see initplan.go).
	GoInit bool
	// Spec, when set, is the bundle's config as spec.Load read it from
	// the absolute bundle path: run reads it first (for process.terminal),
	// and decoding it twice costs time at every start.
	Spec *specs.Spec
}

// Warnf reports what the runtime skips but does not fail on; the command
// line wires it to the log.
type Warnf func(format string, args ...any)

// Create creates container opts.ID from the bundle. On any failure it leaves
// nothing behind: no state directory, process, cgroup or mount.
func Create(ctx context.Context, opts CreateOpts, warn Warnf) (_ *Container, err error) {
	if err := ValidateID(opts.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(opts.Bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", opts.Bundle, err)
	}
	s := opts.Spec
	if s == nil {
		if s, err = spec.Load(bundle); err != nil {
			return nil, &classError{msg: err.Error(), class: errdefs.ErrInvalidArgument}
		}
	}
	if fi, err := os.Stat(s.Root.Path); err != nil || !fi.IsDir() {
		return nil, classf(errdefs.ErrInvalidArgument, "rootfs %s of bundle %s is not a directory", s.Root.Path, bundle)
	}
	if err := checkRlimits(s.Process.Rlimits); err != nil {
		return nil, err
	}
	if err := checkIDMapExtents(s.Linux); err != nil {
		return nil, err
	}
	if err := checkLabels(s); err != nil {
		return nil, err
	}
	if _, unknown, err := caps.New(s.Process.Capabilities); err != nil {
		return nil, err
	} else if len(unknown) > 0 && warn != nil {
		warn("skipping capabilities the kernel does not know: %v", unknown)
	}
	plan, err := planNamespaces(s.Linux)
	if err != nil {
		return nil, err
	}
	if opts.SystemdCgroup {
		return nil, classf(errdefs.ErrNotImplemented, "--systemd-cgroup: the systemd cgroup driver is not supported yet; berth-runtime manages cgroupfs directly (run without --systemd-cgroup)")
	}

	if err := os.MkdirAll(opts.Root, 0o711); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", opts.Root, err)
	}
	dir := filepath.Join(opts.Root, opts.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, classf(errdefs.ErrAlreadyExists, "container %s already exists", opts.ID)
		}
		return nil, fmt.Errorf("create state dir %s: %w", dir, err)
	}
	c := &Container{
		ID: opts.ID, Bundle: bundle, Rootfs: s.Root.Path, Created: time.Now().UTC(),
		Owner: owner(), Spec: s, dir: dir, CgroupRoot: opts.CgroupRoot,
	}
	var st *started
	// For the C init, the v1 cgroups, the limits and the exec fifo are
	// made while init starts (see below); waitAside waits for that.
	var aside chan error
	var asideErr error
	var fifo *os.File
	var tasks []*os.File // the C init's v1 cgroups, to join
	waitAside := func() error {
		if aside != nil {
			asideErr, aside = <-aside, nil
		}
		return asideErr
	}
	defer func() {
		waitAside()
		if fifo != nil {
			fifo.Close()
		}
		closeAll(tasks)
		if err == nil {
			return
		}
		if st != nil && st.cmd != nil {
			st.cmd.killAndReap()
		}
		st.reapIntermediate()
		if c.InitPid > 0 {
			unix.Kill(c.InitPid, unix.SIGKILL)
			waitGone(c.InitPid, 2*time.Second)
		}
		c.destroyCgroup()
		os.RemoveAll(dir)
	}()

	// The cgroups exist before init starts, so that init joins them as
	// it starts (see process.joinCgroups); limits are set while it boots.
	cg, err := newCgroup(opts, s)
	if err != nil {
		return nil, err
	}
	c.CgroupPaths = cg.Paths()
	cInit := cInitEligible(opts, s, plan)
	if cInit {
		// The C init moves itself into the v1 cgroups when its plan
		// arrives: they are made while it starts, with the limits and
		// the fifo (it has no user namespace whose root must own it).
		// The unified one must exist for the clone.
		if err := cg.Create(true); err != nil {
			return nil, fmt.Errorf("create cgroup of container %s: %w", opts.ID, err)
		}
		aside = make(chan error, 1)
		go func() {
			err := c.prepareCgroups(cg, false)
			if err == nil {
				fifo, err = c.makeFifo(nil)
			}
			if err == nil {
				tasks, err = openTasks(c.CgroupPaths)
			}
			aside <- err
		}()
	} else if err := cg.Apply(0); err != nil {
		return nil, fmt.Errorf("create cgroup of container %s: %w", opts.ID, err)
	}
	p := &process{
		id: opts.ID, spec: s, plan: plan, preserveFDs: opts.PreserveFDs,
		consoleSocket: opts.ConsoleSocket, consoleConn: opts.ConsoleConn,
		stdin: opts.Stdin, stdout: opts.Stdout, stderr: opts.Stderr,
		cgroupPaths: c.CgroupPaths, cInit: cInit,
	}
	cfg := &initConfig{
		ID: opts.ID, Bundle: bundle, Spec: s,
		NoPivot: opts.NoPivot, NoNewKeyring: opts.NoNewKeyring, PreserveFDs: opts.PreserveFDs,
		NewCgroupns: plan.newFlags&unix.CLONE_NEWCGROUP != 0, HasHooks: hasCreateHooks(s),
		Userns: plan.userns, CgroupRoot: opts.CgroupRoot,
	}
	// Init starts as early as possible: its boot overlaps with the work
	// below (exec fifo, cgroup), and it gets the fifo with its config.
	started, err := p.start(nil)
	if started != nil {
		st = started
		c.InitPid = started.pid
	}
	if err != nil {
		return nil, err
	}
	defer started.sync.f.Close()
	if c.InitStart, _, err = procStart(c.InitPid); err != nil {
		return nil, fmt.Errorf("read start time of init %d: %w", c.InitPid, err)
	}
	cfg.CgroupPaths = c.CgroupPaths
	var initPlan []byte
	if cInit {
		if initPlan, err = encodePlanFor(cfg); err != nil {
			return nil, err
		}
	}
	if err := waitAside(); err != nil {
		return nil, err
	}
	if fifo == nil {
		// Init reopens the fifo as root of its user namespace, which is
		// another user on the host: the fifo must be that user's.
		if fifo, err = c.makeFifo(func() (uint32, uint32, bool) { return hostRoot(s.Linux, c.InitPid) }); err != nil {
			return nil, err
		}
		if err := c.prepareCgroups(cg, true); err != nil {
			return nil, err
		}
	}
	cfg.ConsoleFD, cfg.ListenerFD, cfg.InitPid = started.consoleFD, started.listenerFD, c.InitPid
	if err := sendInit(started.sync, cfg, cg, p.cInit, initPlan, fifo, tasks); err != nil {
		return nil, err
	}
	c.cg = cg
	// The state is written while init sets up, and takes effect (a
	// rename) once init is ready.
	commit, err := c.stage()
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, started.sync); err != nil {
		return nil, err
	}
	if err := commit(); err != nil {
		return nil, err
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, c.InitPid); err != nil {
			return nil, err
		}
	}
	started.reapIntermediate()
	return c, nil
}

// prepareCgroups sets the container's limits, after creating its v1
// cgroups unless created says they exist.
func (c *Container) prepareCgroups(cg cgroups.Manager, created bool) error {
	if !created {
		if err := cg.Create(false); err != nil {
			return fmt.Errorf("create cgroup of container %s: %w", c.ID, err)
		}
	}
	if err := cg.Set(withDefaultDevices(c.Spec)); err != nil {
		return fmt.Errorf("set cgroup limits: %w", err)
	}
	return nil
}

// makeFifo creates the exec fifo, owned by the ids owner returns when it
// says so, and opens it O_PATH for init.
func (c *Container) makeFifo(owner func() (uid, gid uint32, ok bool)) (*os.File, error) {
	fifoPath := filepath.Join(c.dir, fifoName)
	if err := unix.Mkfifo(fifoPath, 0o600); err != nil {
		return nil, fmt.Errorf("create %s: %w", fifoPath, err)
	}
	if owner != nil {
		if uid, gid, ok := owner(); ok {
			if err := os.Lchown(fifoPath, int(uid), int(gid)); err != nil {
				return nil, fmt.Errorf("chown %s to the container's root: %w", fifoPath, err)
			}
		}
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", fifoPath, err)
	}
	return fifo, nil
}

// encodePlanFor returns the C init's plan for cfg, nil if Go's init must
// create the container.
func encodePlanFor(cfg *initConfig) ([]byte, error) {
	var mntns unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &mntns); err != nil {
		return nil, fmt.Errorf("stat /proc/self/ns/mnt: %w", err)
	}
	blob, ok := encodeInitPlan(cfg, cfg.Spec, mntns)
	if !ok {
		return nil, nil
	}
	return blob, nil
}

// sendInit sends init what to do: the plan for the C init when there is
// one (init was started to look for one: cInit), with the exec fifo and
// the tasks files of the v1 cgroups it joins; else the config for Go's
// init, whose seccomp profile is compiled here.
func sendInit(sc syncConn, cfg *initConfig, cg cgroups.Manager, cInit bool, plan []byte, fifo *os.File, tasks []*os.File) error {
	if plan != nil {
		fds := []int{int(fifo.Fd())}
		for _, f := range tasks {
			fds = append(fds, int(f.Fd()))
		}
		return sc.sendPlan(plan, fds)
	}
	if cInit {
		// Go's init it is, and it was not started into the v1 cgroups.
		if err := cg.Apply(cfg.InitPid); err != nil {
			return fmt.Errorf("move init %d into its cgroup: %w", cfg.InitPid, err)
		}
	}
	s := cfg.Spec
	var err error
	if cfg.Spec, cfg.Seccomp, err = precompileSeccomp(s); err != nil {
		return err
	}
	return sc.sendConfig(cfg, int(fifo.Fd()))
}

// waitReady answers init's hook request and waits until it is ready.
func (c *Container) waitReady(ctx context.Context, sc syncConn) error {
	for {
		m, err := sc.recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("container init exited during set-up")
			}
			return err
		}
		switch m.Type {
		case msgHooks:
			st := c.hookState(Creating)
			if err := runHooks(ctx, "prestart", c.Spec.Hooks.Prestart, st); err != nil { //nolint:staticcheck // prestart is deprecated but still run
				return err
			}
			if err := runHooks(ctx, "createRuntime", c.Spec.Hooks.CreateRuntime, st); err != nil {
				return err
			}
			if err := sc.send(syncMsg{Type: msgHooksDone}); err != nil {
				return err
			}
		case msgReady:
			return nil
		default:
			return fmt.Errorf("unexpected %q message from init", m.Type)
		}
	}
}

func hasCreateHooks(s *specs.Spec) bool {
	return s.Hooks != nil && (len(s.Hooks.Prestart) > 0 || len(s.Hooks.CreateRuntime) > 0) //nolint:staticcheck
}

// checkRlimits refuses a hard limit above the runtime's own when the
// runtime lacks CAP_SYS_RESOURCE: the kernel would refuse it in init, with
// a less helpful error and after namespaces were made.
func checkRlimits(rl []specs.POSIXRlimit) error {
	if len(rl) == 0 {
		return nil
	}
	if caps.Has("CAP_SYS_RESOURCE") {
		return nil
	}
	for _, r := range rl {
		res, _ := spec.RlimitResource(r.Type)
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err != nil {
			return fmt.Errorf("read %s: %w", r.Type, err)
		}
		if r.Hard > cur.Max {
			return classf(errdefs.ErrInvalidArgument, "rlimit %s: hard limit %d exceeds this host's hard limit %d and the runtime lacks CAP_SYS_RESOURCE to raise it", r.Type, r.Hard, cur.Max)
		}
	}
	return nil
}

// maxIDMapExtents is the kernel's limit on lines in uid_map and gid_map
// (user_namespaces(7), Linux 4.15 and later).
const maxIDMapExtents = 340

// checkIDMapExtents refuses more mapping entries than the kernel takes:
// the write of uid_map would fail inside clone with a bare EINVAL.
func checkIDMapExtents(l *specs.Linux) error {
	for _, m := range []struct {
		name string
		ms   []specs.LinuxIDMapping
	}{{"uidMappings", l.UIDMappings}, {"gidMappings", l.GIDMappings}} {
		if len(m.ms) > maxIDMapExtents {
			return classf(errdefs.ErrInvalidArgument, "linux.%s: %d entries, the kernel takes at most %d", m.name, len(m.ms), maxIDMapExtents)
		}
	}
	return nil
}

// owner names the effective user from /etc/passwd, without NSS: the
// runtime stays free of libc user look-ups on its start path.
func owner() string {
	uid := strconv.Itoa(os.Geteuid())
	data, err := os.ReadFile("/etc/passwd")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 2 && f[2] == uid {
				return f[0]
			}
		}
	}
	return "#" + uid
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644)
}

// waitGone waits until pid no longer runs (or is a zombie).
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for d := 100 * time.Microsecond; ; d = min(d*2, 10*time.Millisecond) {
		_, state, err := procStart(pid)
		if err != nil || state == 'Z' || state == 'X' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(d)
	}
}

func dialConsole(path string) (*os.File, error) {
	f, err := dialUnix(path)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return f, nil
}

// hostRoot returns the host ids that the container's root maps to, when
// it has a user namespace: from the configured mappings, or, for a joined
// namespace, from init's maps once init (pid) is in it. ok is false when
// they cannot be known; init then fails with its own error.
func hostRoot(l *specs.Linux, pid int) (uid, gid uint32, ok bool) {
	find := func(ms []specs.LinuxIDMapping) (uint32, bool) {
		for _, m := range ms {
			if m.ContainerID == 0 && m.Size > 0 {
				return m.HostID, true
			}
		}
		return 0, false
	}
	uid, uok := find(l.UIDMappings)
	gid, gok := find(l.GIDMappings)
	if uok && gok {
		return uid, gid, true
	}
	for _, ns := range l.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path != "" && joinedUserns(pid, ns.Path) {
			uid, uok = mappedRoot(fmt.Sprintf("/proc/%d/uid_map", pid))
			gid, gok = mappedRoot(fmt.Sprintf("/proc/%d/gid_map", pid))
			return uid, gid, uok && gok
		}
	}
	return 0, 0, false
}

// joinedUserns waits until pid is in the user namespace at path; nsexec
// joins it first thing, before the fork that reports init's pid, if any.
func joinedUserns(pid int, path string) bool {
	var want unix.Stat_t
	if unix.Stat(path, &want) != nil {
		return false
	}
	procNS := fmt.Sprintf("/proc/%d/ns/user", pid)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		var st unix.Stat_t
		if unix.Stat(procNS, &st) != nil {
			return false // init died: its own error is on the sync socket
		}
		if st.Dev == want.Dev && st.Ino == want.Ino {
			return true
		}
	}
	return false
}

// mappedRoot returns the host id of id 0 in a /proc/PID/{uid,gid}_map.
func mappedRoot(file string) (uint32, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "0" {
			id, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(id), err == nil
		}
	}
	return 0, false
}

// precompileSeccomp compiles linux.seccomp in the parent, which decoded it
// already and has time to spare while init boots, and returns the spec for
// init without it: decoding a distribution's profile (~16 KB of JSON) in
// the fresh init costs more than half a millisecond, and compiling it more
// still. A profile that needs a notify listener stays with init, which
// sends the listener fd on. s itself is not changed.
func precompileSeccomp(s *specs.Spec) (*specs.Spec, *compiledSeccomp, error) {
	sc := s.Linux.Seccomp
	if sc == nil || seccompNeedsListener(sc) {
		return s, nil, nil
	}
	prog, flags, err := seccomp.Filter(sc)
	if err != nil {
		return nil, nil, classf(errdefs.ErrInvalidArgument, "linux.seccomp: %v", err)
	}
	b := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	ss, l := *s, *s.Linux
	l.Seccomp = nil
	ss.Linux = &l
	return &ss, &compiledSeccomp{Prog: b, Flags: flags}, nil
}
