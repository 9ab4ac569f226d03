package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Message types on the sync socket between the runtime and init.
const (
	msgConfig    = "config"     // parent → init: what to do
	msgUserns    = "userns"     // nsexec → parent: write id maps now
	msgPid       = "pid"        // nsexec → parent: the pid of init after the fork
	msgHooks     = "hooks"      // init → parent: run prestart/createRuntime hooks
	msgHooksDone = "hooks-done" // parent → init
	msgReady     = "ready"      // init → parent: created, waiting for start
	msgError     = "error"      // either way: what failed
)

type syncMsg struct {
	Type   string      `json:"type"`
	Pid    int         `json:"pid,omitempty"`
	Msg    string      `json:"msg,omitempty"`
	Config *initConfig `json:"config,omitempty"`
}

// initConfig tells init what to set up.
type initConfig struct {
	Exec         bool              `json:"exec,omitempty"` // exec into a running container
	ID           string            `json:"id"`
	InitPid      int               `json:"initPid"` // in the runtime's pid namespace, for hook state
	Bundle       string            `json:"bundle"`
	Spec         *specs.Spec       `json:"spec"`
	Process      *specs.Process    `json:"process"`
	NoPivot      bool              `json:"noPivot,omitempty"`
	NoNewKeyring bool              `json:"noNewKeyring,omitempty"`
	PreserveFDs  int               `json:"preserveFds,omitempty"`
	CgroupPaths  map[string]string `json:"cgroupPaths,omitempty"`
	CgroupRoot   string            `json:"cgroupRoot,omitempty"`
	NewCgroupns  bool              `json:"newCgroupns,omitempty"`
	HasHooks     bool              `json:"hasHooks,omitempty"`
	Userns       bool              `json:"userns,omitempty"`
	ConsoleFD    int               `json:"consoleFd"`
	FifoFD       int               `json:"fifoFd"`
	ListenerFD   int               `json:"listenerFd"` // connection to linux.seccomp.listenerPath
}

type syncConn struct{ f *os.File }

// send writes one message, passing fds along with SCM_RIGHTS.
func (c syncConn) send(m syncMsg, fds ...int) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(c.f.Fd()), data, oob, nil, 0); err != nil {
		return fmt.Errorf("write %s message: %w", m.Type, err)
	}
	return nil
}

// recv reads one packet. io.EOF means the other side closed the socket.
func (c syncConn) recv() (syncMsg, error) {
	m, fds, err := c.recvFDs()
	for _, fd := range fds {
		unix.Close(fd)
	}
	return m, err
}

// recvFDs reads one packet and the fds passed with it. The packet's size is
// peeked first, so the buffer is only as large as the message: a fixed
// large buffer costs page faults on the start path.
func (c syncConn) recvFDs() (syncMsg, []int, error) {
	fd := int(c.f.Fd())
	var buf []byte
	var fds []int
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, _, err := unix.Recvfrom(fd, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return syncMsg{}, nil, err
		}
		if n == 0 {
			return syncMsg{}, nil, io.EOF
		}
		buf = make([]byte, n)
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		} else if err != nil {
			return syncMsg{}, nil, err
		}
		buf = buf[:n]
		if oobn > 0 {
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return syncMsg{}, nil, fmt.Errorf("decode sync message fds: %w", err)
			}
			for i := range msgs {
				if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		break
	}
	var m syncMsg
	if err := json.Unmarshal(buf, &m); err != nil {
		return syncMsg{}, fds, fmt.Errorf("decode sync message: %w", err)
	}
	if m.Type == msgError {
		return m, fds, errors.New(m.Msg)
	}
	return m, fds, nil
}

func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}
