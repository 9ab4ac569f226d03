package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/spec"
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
	msgLarge     = "large"      // either way: the next packets hold a message of Size bytes
)

// maxPacket bounds one packet: a SOCK_SEQPACKET message must fit the
// socket's send buffer (net.core.wmem_default, 208 KiB on most hosts), and
// a config.json may hold more (large annotations). A longer message goes
// as a msgLarge header, which carries the fds, then raw chunks.
const maxPacket = 64 << 10

type syncMsg struct {
	Type   string      `json:"type"`
	Pid    int         `json:"pid,omitempty"`
	Msg    string      `json:"msg,omitempty"`
	Size   int         `json:"size,omitempty"` // of a msgLarge's message
	Config *initConfig `json:"config,omitempty"`
}

// initConfig tells init what to set up.
type initConfig struct {
	Exec         bool              `json:"exec,omitempty"` // exec into a running container
	ID           string            `json:"id"`
	InitPid      int               `json:"initPid"` // in the runtime's pid namespace, for hook state
	Bundle       string            `json:"bundle"`
	Spec         *specs.Spec       `json:"-"`
	Wire         wireSpec          `json:"spec"`              // Spec on the socket
	Process      *specs.Process    `json:"process,omitempty"` // exec only: create runs Spec.Process
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
	// Seccomp is linux.seccomp compiled by the parent (see precompileSeccomp);
	// Spec.Linux.Seccomp is then left out.
	Seccomp *compiledSeccomp `json:"seccompBpf,omitempty"`
}

// compiledSeccomp is a seccomp program as seccomp.Filter returns it, its
// instructions packed as struct sock_filter in native byte order.
type compiledSeccomp struct {
	Prog  []byte `json:"prog"`
	Flags uint   `json:"flags"`
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
	fd := int(c.f.Fd())
	if len(data) > maxPacket {
		hdr, _ := json.Marshal(syncMsg{Type: msgLarge, Size: len(data)})
		if err := unix.Sendmsg(fd, hdr, oob, nil, 0); err != nil {
			return fmt.Errorf("write %s message header: %w", m.Type, err)
		}
		for rest := data; len(rest) > 0; rest = rest[min(len(rest), maxPacket):] {
			if err := unix.Sendmsg(fd, rest[:min(len(rest), maxPacket)], nil, nil, 0); err != nil {
				return fmt.Errorf("write %s message: %w", m.Type, err)
			}
		}
		return nil
	}
	if err := unix.Sendmsg(fd, data, oob, nil, 0); err != nil {
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
	m, err := decodeSyncMsg(buf)
	if err != nil {
		return syncMsg{}, fds, err
	}
	if m.Type == msgLarge {
		buf, err := readLarge(fd, m.Size)
		if err != nil {
			return syncMsg{}, fds, err
		}
		if m, err = decodeSyncMsg(buf); err != nil {
			return syncMsg{}, fds, err
		}
	}
	if m.Type == msgError {
		return m, fds, errors.New(m.Msg)
	}
	return m, fds, nil
}

// decodeSyncMsg decodes one message. Its config, when it has one, is
// decoded on its own: encoding/json builds its reflection caches for every
// type reachable from the one it decodes into, and for initConfig that is
// the whole spec; an exec, which reads only a {"type":"pid"} message in a
// freshly started runtime, would pay about half a millisecond for them.
func decodeSyncMsg(data []byte) (syncMsg, error) {
	var h struct {
		syncMsg
		Config json.RawMessage `json:"config,omitempty"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return syncMsg{}, fmt.Errorf("decode sync message: %w", err)
	}
	m := h.syncMsg
	if len(h.Config) > 0 && string(h.Config) != "null" {
		m.Config = new(initConfig)
		if err := json.Unmarshal(h.Config, m.Config); err != nil {
			return syncMsg{}, fmt.Errorf("decode sync message: %w", err)
		}
	}
	return m, nil
}

// readLarge reads the chunks of a message of size bytes sent after a
// msgLarge header; each read returns one packet.
func readLarge(fd, size int) ([]byte, error) {
	if size <= 0 || size > 64<<20 {
		return nil, fmt.Errorf("sync message of %d bytes", size)
	}
	buf := make([]byte, size)
	for got := 0; got < size; {
		n, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sync message: %w", err)
		}
		if n == 0 {
			return nil, io.EOF
		}
		got += n
	}
	return buf, nil
}

func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// sendConfig sends init its configuration. When init is already gone (it
// failed in nsexec, before reading anything), the error it left on the
// socket is more telling than the broken pipe.
func (c syncConn) sendConfig(cfg *initConfig, fds ...int) error {
	cfg.Wire = wireSpec{cfg.Spec}
	err := c.send(syncMsg{Type: msgConfig, Config: cfg}, fds...)
	if err == nil {
		return nil
	}
	if m, rerr := c.recv(); rerr != nil && m.Type == msgError {
		return rerr
	}
	return fmt.Errorf("send config to init: %w", err)
}

// wireSpec carries initConfig.Spec. encoding/json builds, for a struct it
// decodes into, the encoders of every type reachable from it, and
// specs.Spec reaches the cgroup resources and the Solaris, Windows, VM,
// z/OS and FreeBSD types: most of a millisecond in a freshly started init,
// which never reads them. Init decodes into initSpec instead; the parent
// encodes the spec as a spec.Doc.
type wireSpec struct{ s *specs.Spec }

func (w wireSpec) MarshalJSON() ([]byte, error) { return json.Marshal(spec.ToDoc(w.s)) }

func (w *wireSpec) UnmarshalJSON(data []byte) error {
	var in *initSpec
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	w.s = in.spec()
	return nil
}

// initSpec is the part of specs.Spec that init reads, with the same JSON
// names; everything else stays with the parent (cgroup resources,
// linux.intelRdt, memoryPolicy and netDevices, other platforms).
type initSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *struct {
		UIDMappings       []specs.LinuxIDMapping           `json:"uidMappings,omitempty"`
		GIDMappings       []specs.LinuxIDMapping           `json:"gidMappings,omitempty"`
		Sysctl            map[string]string                `json:"sysctl,omitempty"`
		CgroupsPath       string                           `json:"cgroupsPath,omitempty"`
		Namespaces        []specs.LinuxNamespace           `json:"namespaces,omitempty"`
		Devices           []specs.LinuxDevice              `json:"devices,omitempty"`
		Seccomp           *specs.LinuxSeccomp              `json:"seccomp,omitempty"`
		RootfsPropagation string                           `json:"rootfsPropagation,omitempty"`
		MaskedPaths       []string                         `json:"maskedPaths,omitempty"`
		ReadonlyPaths     []string                         `json:"readonlyPaths,omitempty"`
		MountLabel        string                           `json:"mountLabel,omitempty"`
		Personality       *specs.LinuxPersonality          `json:"personality,omitempty"`
		TimeOffsets       map[string]specs.LinuxTimeOffset `json:"timeOffsets,omitempty"`
	} `json:"linux,omitempty"`
}

func (in *initSpec) spec() *specs.Spec {
	if in == nil {
		return nil
	}
	s := &specs.Spec{
		Version: in.Version, Process: in.Process, Root: in.Root, Hostname: in.Hostname,
		Domainname: in.Domainname, Mounts: in.Mounts, Hooks: in.Hooks, Annotations: in.Annotations,
	}
	if l := in.Linux; l != nil {
		s.Linux = &specs.Linux{
			UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl, CgroupsPath: l.CgroupsPath,
			Namespaces: l.Namespaces, Devices: l.Devices, Seccomp: l.Seccomp, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel,
			Personality: l.Personality, TimeOffsets: l.TimeOffsets,
		}
	}
	return s
}
