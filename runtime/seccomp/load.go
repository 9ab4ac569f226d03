package seccomp

import (
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Load compiles cfg and installs it on the calling thread with seccomp(2)
// SECCOMP_SET_MODE_FILTER and the flags from cfg.Flags. When any rule uses
// SCMP_ACT_NOTIFY it adds SECCOMP_FILTER_FLAG_NEW_LISTENER and returns the
// listener fd (close-on-exec, so send it to the agent before execve); else
// it returns -1.
//
// The caller locks its goroutine to the OS thread, and that thread has
// no_new_privs set or holds CAP_SYS_ADMIN. Without SECCOMP_FILTER_FLAG_TSYNC
// the filter binds only that thread and the processes it then starts.
func Load(cfg *specs.LinuxSeccomp) (notifyFd int, err error) {
	prog, err := Compile(cfg)
	if err != nil {
		return -1, err
	}
	bits, err := flagBits(cfg.Flags)
	if err != nil {
		return -1, err
	}
	return install(prog, withListener(bits, usesNotify(cfg)))
}

func usesNotify(cfg *specs.LinuxSeccomp) bool {
	return slices.ContainsFunc(cfg.Syscalls, func(s specs.LinuxSyscall) bool {
		return s.Action == specs.ActNotify
	})
}

// withListener adds the flags a notify listener needs, or drops
// WAIT_KILLABLE_RECV, which only shapes the listener and which the kernel
// refuses without one.
func withListener(bits uint, notify bool) uint {
	if !notify {
		return bits &^ unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	bits |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	if bits&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		// Both would report through the return value (a listener fd, a
		// thread that failed to sync); ESRCH makes TSYNC report by errno.
		bits |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	return bits
}

func install(prog []unix.SockFilter, bits uint) (int, error) {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(bits), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, loadError(errno, bits, len(prog))
	}
	if bits&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	if r != 0 {
		return -1, fmt.Errorf("load seccomp filter: thread %d has a conflicting filter, so SECCOMP_FILTER_FLAG_TSYNC failed", r)
	}
	return -1, nil
}

func loadError(errno unix.Errno, bits uint, n int) error {
	switch errno {
	case unix.EINVAL:
		if f, err := rejectedFlag(bits, probeFlag); err != nil {
			return fmt.Errorf("load seccomp filter: kernel rejects flag %s: %w", f.name, err)
		}
		return fmt.Errorf("load seccomp filter of %d instructions: %w", n, errno)
	case unix.EACCES:
		return fmt.Errorf("load seccomp filter: %w (the thread needs no_new_privs or CAP_SYS_ADMIN)", errno)
	case unix.ESRCH:
		return fmt.Errorf("load seccomp filter: another thread has a conflicting filter, so SECCOMP_FILTER_FLAG_TSYNC failed: %w", errno)
	}
	return fmt.Errorf("load seccomp filter: %w", errno)
}

// Filter compiles cfg into the program and seccomp(2) flags that Load
// would install, for a caller that installs it itself (nsexec, in C). A
// profile that needs a notify listener is refused: its fd must be sent on.
func Filter(cfg *specs.LinuxSeccomp) (prog []unix.SockFilter, flags uint, err error) {
	if usesNotify(cfg) {
		return nil, 0, fmt.Errorf("seccomp profile with SCMP_ACT_NOTIFY needs a listener")
	}
	if prog, err = Compile(cfg); err != nil {
		return nil, 0, err
	}
	bits, err := flagBits(cfg.Flags)
	if err != nil {
		return nil, 0, err
	}
	return prog, withListener(bits, false), nil
}

// Install installs prog, as Filter compiled it with flags, on the calling
// thread, with the same requirements as Load.
func Install(prog []unix.SockFilter, flags uint) error {
	if len(prog) == 0 {
		return fmt.Errorf("load seccomp filter: empty program")
	}
	_, err := install(prog, flags&^unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
	return err
}
