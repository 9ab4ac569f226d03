package containers

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// acceptConsole receives the pty master the runtime sends, unless the
// runtime exits first.
func acceptConsole(l *net.UnixListener, exited <-chan struct{}) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer c.Close()
		f, err := recvFD(c)
		ch <- result{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-exited:
		l.Close()
		if r := <-ch; r.f != nil {
			return r.f, nil
		}
		return nil, errors.New("the runtime exited before sending the terminal")
	}
}

// recvFD receives one file descriptor (SCM_RIGHTS) on c.
func recvFD(c *net.UnixConn) (*os.File, error) {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("receive the terminal: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive the terminal: no file descriptor (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("receive the terminal: want one file descriptor (%v)", err)
	}
	unix.SetNonblock(fds[0], true)
	return os.NewFile(uintptr(fds[0]), "ptmx"), nil
}

// setWinsize sets a pty's size.
func setWinsize(f *os.File, height, width uint16) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	raw.Control(func(fd uintptr) {
		serr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: height, Col: width})
	})
	return serr
}
