package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// process starts a berth-runtime init: the first process of a new
// container, or a process joining a running one (exec).
type process struct {
	id            string
	spec          *specs.Spec
	plan          nsPlan
	preserveFDs   int
	consoleSocket string
	consoleConn   *os.File
	stdin         *os.File
	stdout        *os.File
	stderr        *os.File
	// cgroupPaths are the container's cgroups (Manager.Paths), which init
	// joins as it starts: nil joins none.
	cgroupPaths map[string]string
	// execBlob, when set, is the process for nsexec to exec itself (see
	// execblob.go): no Go init runs in the container.
	execBlob []byte
	// cInit starts init looking for a plan for the C init (initplan.go)
	// in its first packet.
	cInit bool
}

type started struct {
	cmd        *spawned // init itself, when it is this runtime's child
	inter      *spawned // nsexec's intermediate, which exits once init is forked
	pid        int      // init's pid
	sync       syncConn
	consoleFD  int
	fifoFD     int
	listenerFD int
}

// initGODEBUG stops the Go runtime of init from opening its cgroup's CPU
// limit files at start-up (container-aware GOMAXPROCS, Go 1.25): init runs
// on one thread anyway, and it should hold no fd of the host's cgroupfs
// while the container is created (CVE-2024-21626 class).
const initGODEBUG = "GODEBUG=containermaxprocs=0,updatemaxprocs=0"

// start execs init from a sealed view of this binary and, when nsexec has
// to act, serves its requests until init's pid is known. On error the
// returned value (if any) holds what must be killed.
func (p *process) start(fifo *os.File) (*started, error) {
	self, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	defer self.Close()
	parent, child, err := socketpair()
	if err != nil {
		return nil, err
	}
	defer child.Close()
	st := &started{sync: syncConn{parent}, consoleFD: -1, fifoFD: -1, listenerFD: -1}
	fail := func(err error) (*started, error) {
		parent.Close()
		return st, err
	}

	var extra []*os.File
	for i := 0; i < p.preserveFDs; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	add := func(f *os.File) int {
		extra = append(extra, f)
		return 2 + len(extra)
	}
	syncFD := add(child)
	if fifo != nil {
		st.fifoFD = add(fifo)
	}
	conn := p.consoleConn
	if conn == nil && p.consoleSocket != "" {
		if conn, err = dialConsole(p.consoleSocket); err != nil {
			return fail(err)
		}
		defer conn.Close()
	}
	if conn != nil {
		st.consoleFD = add(conn)
	}
	if sc := p.spec.Linux.Seccomp; sc != nil && sc.ListenerPath != "" {
		l, err := dialUnix(sc.ListenerPath)
		if err != nil {
			return fail(fmt.Errorf("connect to seccomp listener: %w", err))
		}
		defer l.Close()
		st.listenerFD = add(l)
	}

	// syscall.ForkExec rather than os/exec: os.StartProcess first checks,
	// once per process, that pidfds work, by cloning a throw-away child.
	env := []string{"_BERTH_INIT=1", "_BERTH_SYNC=" + strconv.Itoa(syncFD), initGODEBUG}
	native := p.plan.nativeClone() && p.execBlob == nil
	attr := &syscall.SysProcAttr{}
	cgFiles, cgEnv, err := p.joinCgroups(attr, add)
	if err != nil {
		return fail(err)
	}
	defer closeAll(cgFiles)
	env = append(env, cgEnv...)
	if native {
		attr.Cloneflags = p.plan.newFlags &^ unix.CLONE_NEWCGROUP
		if p.plan.newUser {
			attr.UidMappings = sysProcIDMaps(p.spec.Linux.UIDMappings)
			attr.GidMappings = sysProcIDMaps(p.spec.Linux.GIDMappings)
			attr.GidMappingsEnableSetgroups = true
			attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		}
	} else {
		env = append(env, p.plan.env(syncFD)...)
	}
	// Fds the caller leaked to the runtime (not close-on-exec) must not
	// reach init: they would stay open in it, inside the container, until
	// start (CVE-2024-21626 class). Preserved fds go through ExtraFiles.
	if err := unix.CloseRange(uint(3+p.preserveFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(fmt.Errorf("mark inherited fds close-on-exec: %w", err))
	}
	if p.cInit {
		env = append(env, "_BERTH_PLAN=1")
	}
	if p.execBlob != nil {
		// Queued on the socket before the process starts: nsexec reads it
		// as soon as it is in the container.
		env = append(env, "_BERTH_EXEC=1")
		if err := unix.Sendmsg(int(parent.Fd()), p.execBlob, nil, nil, 0); err != nil {
			return fail(fmt.Errorf("write process to sync socket: %w", err))
		}
	}
	files := []uintptr{orStd(p.stdin, os.Stdin).Fd(), orStd(p.stdout, os.Stdout).Fd(), orStd(p.stderr, os.Stderr).Fd()}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	pid, err := syscall.ForkExec(procFD(self), []string{"berth-runtime", "init"}, &syscall.ProcAttr{Env: env, Files: files, Sys: attr})
	runtime.KeepAlive(extra)
	if err != nil {
		return fail(fmt.Errorf("start container init: %w", err))
	}
	st.cmd = &spawned{pid}
	st.pid = pid
	if native {
		return st, nil
	}
	if err := p.serveNsexec(st); err != nil {
		return fail(err)
	}
	return st, nil
}

// joinCgroups arranges for init to start in the container's cgroups
// without the parent writing its pid to any cgroup.procs: such a write
// takes cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
// period (5-20 ms on a quiet host). nsexec moves the process into each v1
// cgroup itself while it is single-threaded, through the tasks files opened
// here (_BERTH_CGROUP_V1), which needs no such lock; the clone puts it into
// the unified hierarchy's cgroup (CLONE_INTO_CGROUP, Linux 5.7), which
// takes the lock only for reading. It returns the files to close once init
// has started.
//
// The C init (p.cInit) gets the tasks files with its plan instead, once
// the parent has made the v1 cgroups while it started (see Create).
func (p *process) joinCgroups(attr *syscall.SysProcAttr, add func(*os.File) int) (opened []*os.File, env []string, err error) {
	if !p.cInit {
		if opened, err = openTasks(p.cgroupPaths); err != nil {
			return nil, nil, err
		}
		var fds []string
		for _, f := range opened {
			fds = append(fds, strconv.Itoa(add(f)))
		}
		if len(fds) > 0 {
			env = append(env, "_BERTH_CGROUP_V1="+strings.Join(fds, ","))
		}
	}
	if dir, ok := p.cgroupPaths[""]; ok {
		f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll(opened)
			return nil, nil, fmt.Errorf("open cgroup %s: %w", dir, err)
		}
		opened = append(opened, f)
		attr.UseCgroupFD = true
		attr.CgroupFD = int(f.Fd())
	}
	return opened, env, nil
}

// openTasks opens the tasks file of each v1 cgroup in paths (as
// Manager.Paths gives them), once per directory, in a stable order.
func openTasks(paths map[string]string) ([]*os.File, error) {
	var dirs []string
	seen := map[string]bool{}
	for key, dir := range paths {
		if key != "" && !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	var opened []*os.File
	for _, dir := range dirs {
		f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll(opened)
			return nil, fmt.Errorf("open cgroup %s: %w", dir, err)
		}
		opened = append(opened, f)
	}
	return opened, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// serveNsexec answers nsexec: it writes the id maps of a new user
// namespace and learns init's pid after nsexec's fork.
func (p *process) serveNsexec(st *started) error {
	if p.plan.newUser {
		m, err := st.sync.recv()
		if err != nil {
			return nsexecErr(err)
		}
		if m.Type != msgUserns {
			return fmt.Errorf("unexpected %q message from nsexec", m.Type)
		}
		if err := writeIDMaps(st.cmd.pid, p.spec.Linux); err != nil {
			return err
		}
		if err := st.sync.send(syncMsg{Type: msgUserns}); err != nil {
			return err
		}
	}
	if !p.plan.fork() {
		return nil
	}
	m, err := st.sync.recv()
	if err != nil {
		return nsexecErr(err)
	}
	if m.Type != msgPid || m.Pid <= 0 {
		return fmt.Errorf("unexpected %q message from nsexec", m.Type)
	}
	// The intermediate exits at once; init is now a grandchild, or an
	// orphan adopted by our subreaper or by the system's init. It is
	// reaped later, off the critical path (reapIntermediate).
	st.inter, st.cmd = st.cmd, nil
	st.pid = m.Pid
	return nil
}

// spawned is a process this runtime started and reaps.
type spawned struct{ pid int }

func (c *spawned) killAndReap() { killAndReap(c.pid) }

func (c *spawned) reap() {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(c.pid, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}

// reapIntermediate reaps nsexec's intermediate process, if there was one.
func (st *started) reapIntermediate() {
	if st != nil && st.inter != nil {
		st.inter.reap()
		st.inter = nil
	}
}

func nsexecErr(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("container init exited while setting up namespaces")
	}
	return err
}

func orStd(f, std *os.File) *os.File {
	if f != nil {
		return f
	}
	return std
}

func dialUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket for %s: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
