package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// ExitStatus is how the container's init ended, as the shim recorded it.
type ExitStatus struct {
	ID        string         `json:"id"`
	Pid       int            `json:"pid"`
	Code      int            `json:"exit_code"` // exit code, or 128+signal
	Signal    syscall.Signal `json:"signal"`    // 0 unless killed by a signal
	OOMKilled bool           `json:"oom_killed"`
	ExitedAt  time.Time      `json:"exited_at"`
}

// Wait waits until the container has exited and its shim is gone, and
// returns the recorded status. It works the same for the process that
// started the shim and for one that found it with Open. When the shim died
// without recording a status (killed with SIGKILL) the error is
// errdefs.ErrDataLoss: the runtime's state may then still need a delete.
func (s *Shim) Wait(ctx context.Context) (ExitStatus, error) {
	if s.info.Pid > 0 {
		fd, err := unix.PidfdOpen(s.info.Pid, 0)
		if err == nil {
			defer unix.Close(fd)
			// The pidfd pins this pid; if its start time is not the
			// shim's, the pid was reused and the shim is long gone.
			if s.alive() {
				if err := waitFd(ctx, fd); err != nil {
					return ExitStatus{}, fmt.Errorf("wait for container %s: %w", s.info.ID, err)
				}
			}
		} else if !errors.Is(err, unix.ESRCH) {
			return ExitStatus{}, fmt.Errorf("wait for container %s: pidfd of shim %d: %w", s.info.ID, s.info.Pid, err)
		}
	}
	st, err := ReadExit(s.dir)
	if errors.Is(err, errdefs.ErrNotFound) {
		return ExitStatus{}, fmt.Errorf("shim of container %s (pid %d) exited without recording an exit status in %s: %w",
			s.info.ID, s.info.Pid, s.dir, errdefs.ErrDataLoss)
	}
	return st, err
}

// alive reports whether the shim's pid still names the shim.
func (s *Shim) alive() bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(s.info.Pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(data[i+1:]))
	// Fields after "(comm)" start at field 3; starttime is field 22.
	return len(f) > 19 && f[19] == strconv.FormatUint(s.info.StartTime, 10)
}

// waitFd waits for a pidfd to become readable (the process exited).
func waitFd(ctx context.Context, fd int) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A bounded poll keeps cancellation prompt without a goroutine.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 200)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll pidfd: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
}

// ReadExit reads the exit status the shim recorded in dir;
// errdefs.ErrNotFound if there is none (yet).
func ReadExit(dir string) (ExitStatus, error) {
	data, err := os.ReadFile(filepath.Join(dir, exitFile))
	if errors.Is(err, os.ErrNotExist) {
		return ExitStatus{}, fmt.Errorf("no exit status in %s: %w", dir, errdefs.ErrNotFound)
	}
	if err != nil {
		return ExitStatus{}, err
	}
	st, err := decodeExit(data)
	if err != nil {
		return ExitStatus{}, fmt.Errorf("exit status in %s: %w", dir, err)
	}
	return st, nil
}

func decodeExit(data []byte) (ExitStatus, error) {
	var st ExitStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return ExitStatus{}, fmt.Errorf("decode %s: %w: %w", exitFile, err, errdefs.ErrDataLoss)
	}
	if st.ID == "" || st.Code < 0 || st.Code > 255 || st.Signal < 0 || st.Signal > 64 || st.ExitedAt.IsZero() {
		return ExitStatus{}, fmt.Errorf("%s: id, code, signal or time out of range: %w", exitFile, errdefs.ErrDataLoss)
	}
	return st, nil
}
