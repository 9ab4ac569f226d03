package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// IsInit reports whether this process was started as a container's init;
// main calls it before anything else and then calls Init.
func IsInit() bool {
	return len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_BERTH_INIT") == "1"
}

// Init is the container's first process until it execs the user's
// program. The calling goroutine must be locked to the main OS thread: the
// credentials, capabilities and seccomp filter it sets are per-thread, and
// it execs from this thread. Init returns only on failure.
func Init() {
	fd, err := strconv.Atoi(os.Getenv("_BERTH_SYNC"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth-runtime init: must be started by berth-runtime")
		os.Exit(1)
	}
	os.Clearenv()
	// The fds init got from its parent stay out of the hooks it runs.
	unix.CloseOnExec(fd)
	sc := syncConn{os.NewFile(uintptr(fd), "sync")}
	m, fds, err := sc.recvFDs()
	if err != nil || m.Type != msgConfig || m.Config == nil {
		os.Exit(1) // the parent is gone or sent garbage: nobody to tell
	}
	cfg := m.Config
	cfg.Spec = cfg.Wire.s
	if cfg.Spec == nil || cfg.Spec.Linux == nil {
		sc.send(syncMsg{Type: msgError, Msg: "init config without a spec"})
		os.Exit(1)
	}
	for _, fd := range []int{cfg.ConsoleFD, cfg.ListenerFD} {
		if fd >= 0 {
			unix.CloseOnExec(fd)
		}
	}
	cfg.FifoFD = -1
	if len(fds) > 0 {
		cfg.FifoFD = fds[0] // the exec fifo (create only), O_PATH
	}
	if cfg.Exec {
		err = execInit(sc, cfg)
	} else {
		err = createInit(sc, cfg)
	}
	// Still here: something failed before execve.
	var late *lateError
	if errors.As(err, &late) {
		fmt.Fprintf(os.Stderr, "berth-runtime: %v\n", late.err)
		os.Exit(late.code)
	}
	sc.send(syncMsg{Type: msgError, Msg: err.Error()})
	os.Exit(1)
}

// lateError is a failure after create has returned: nobody reads the sync
// socket any more, so it goes to the container's stderr.
type lateError struct {
	err  error
	code int
}

func (e *lateError) Error() string { return e.err.Error() }

func createInit(sc syncConn, cfg *initConfig) error {
	s := cfg.Spec
	unix.Umask(0)
	if cfg.NewCgroupns {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("create cgroup namespace: %w", err)
		}
	}
	if _, err := prepareRootfs(cfg); err != nil {
		return err
	}
	if cfg.HasHooks {
		if err := sc.send(syncMsg{Type: msgHooks}); err != nil {
			return err
		}
		if m, err := sc.recv(); err != nil {
			return err
		} else if m.Type != msgHooksDone {
			return fmt.Errorf("unexpected %q message from parent", m.Type)
		}
	}
	// The create operation has not finished: the state is "creating".
	st := initState(cfg, Creating)
	if s.Hooks != nil {
		if err := runHooks(context.Background(), "createContainer", s.Hooks.CreateContainer, st); err != nil {
			return err
		}
	}
	if cfg.NoPivot {
		if err := moveRoot(s.Root.Path); err != nil {
			return err
		}
	} else if err := pivotRoot(s.Root.Path); err != nil {
		return err
	}
	// rootfsPropagation applies to the new / once it is the root, as with
	// runc: before pivot_root, a shared rootfs would let its mounts reach
	// the host, and pivot_root refuses a shared parent.
	if p, ok := propagationOpts[s.Linux.RootfsPropagation]; ok {
		if err := unix.Mount("", "/", "", p, ""); err != nil {
			return fmt.Errorf("set rootfsPropagation %s of /: %w", s.Linux.RootfsPropagation, err)
		}
	}
	if s.Process.Terminal {
		conn, err := consoleConn(cfg)
		if err != nil {
			return err
		}
		if err := setupConsole(conn, s.Process, true); err != nil {
			return err
		}
		conn.Close()
	}
	if err := finishRootfs(s); err != nil {
		return err
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", s.Domainname, err)
		}
	}
	if !cfg.NoNewKeyring {
		// A session keyring of its own, so containers share no keys.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("join session keyring: %w", err)
		}
	}
	fin, err := prepareFinalize(cfg, s.Process, s)
	if err != nil {
		return err
	}
	if err := sc.send(syncMsg{Type: msgReady}); err != nil {
		return err
	}
	sc.f.Close()

	// Wait for start: opening the fifo for writing blocks until `start`
	// opens it for reading.
	fifo, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(cfg.FifoFD), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &lateError{fmt.Errorf("open exec fifo: %w", err), 1}
	}
	if _, err := fifo.Write([]byte{0}); err != nil {
		return &lateError{fmt.Errorf("write exec fifo: %w", err), 1}
	}
	fifo.Close()
	unix.Close(cfg.FifoFD)
	if s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		if err := runHooks(context.Background(), "startContainer", s.Hooks.StartContainer, initState(cfg, Created)); err != nil {
			return &lateError{err, 1}
		}
	}
	if err := fin.exec(); err != nil {
		return &lateError{err, 127}
	}
	return nil
}

func execInit(sc syncConn, cfg *initConfig) error {
	if cfg.Process.Terminal {
		conn, err := consoleConn(cfg)
		if err != nil {
			return err
		}
		if err := setupConsole(conn, cfg.Process, false); err != nil {
			return err
		}
		conn.Close()
	}
	fin, err := prepareFinalize(cfg, cfg.Process, cfg.Spec)
	if err != nil {
		return err
	}
	// The sync socket is close-on-exec: the parent reads EOF once execve
	// succeeded, or the error below.
	return fin.exec()
}

func consoleConn(cfg *initConfig) (*os.File, error) {
	if cfg.ConsoleFD < 0 {
		return nil, errors.New("process.terminal is set but no console socket was given (--console-socket)")
	}
	return os.NewFile(uintptr(cfg.ConsoleFD), "console-socket"), nil
}

func initState(cfg *initConfig, status string) []byte {
	c := &Container{ID: cfg.ID, Bundle: cfg.Bundle, Spec: cfg.Spec}
	return c.hookStateFor(status, cfg.InitPid)
}
