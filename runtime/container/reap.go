package container

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Wait waits for a child (or adopted grandchild) and returns its exit code
// in the shell's convention: the status, or 128+signal.
func Wait(pid int) (int, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, err
		}
		break
	}
	return ExitCode(ws), nil
}

// ExitCode converts a wait status to a shell-style exit code.
func ExitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func killAndReap(pid int) {
	unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil)
}
