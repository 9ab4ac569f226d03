package container

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sealedSelf returns a file for executing this runtime binary such that a
// process in the container can never write to it through /proc/PID/exe
// (CVE-2019-5736): a detached, read-only clone of the mount that holds the
// binary, so opening it for writing gives EROFS whatever the container
// does. open_tree and mount_setattr cost a few microseconds; where the
// kernel lacks them, it falls back to a sealed memfd copy of the binary.
//
// The fd is duplicated above the range os/exec uses for ExtraFiles, so the
// child can exec /proc/self/fd/N before its fd table is rearranged.
func sealedSelf() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err == nil {
			return highFD(fd, "berth-runtime (read-only)")
		}
		unix.Close(fd)
	}
	return memfdSelf()
}

func memfdSelf() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open runtime binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("berth-runtime", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd for runtime binary: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "berth-runtime (memfd)")
	if _, err := io.Copy(mem, src); err != nil {
		mem.Close()
		return nil, fmt.Errorf("copy runtime binary to memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("seal runtime binary memfd: %w", err)
	}
	defer mem.Close()
	nfd, err := unix.Dup(int(mem.Fd()))
	if err != nil {
		return nil, err
	}
	return highFD(nfd, "berth-runtime (memfd)")
}

// highFD moves fd to 100 or above, close-on-exec.
func highFD(fd int, name string) (*os.File, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("dup runtime binary fd: %w", err)
	}
	return os.NewFile(uintptr(nfd), name), nil
}
