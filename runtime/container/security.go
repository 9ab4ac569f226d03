package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func rawSetgroups(gids []uint32) error {
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(p), 0); e != 0 {
		return e
	}
	return nil
}

func setPersonality(p *specs.LinuxPersonality) error {
	var persona uintptr
	switch p.Domain {
	case specs.PerLinux:
		persona = 0x0000
	case specs.PerLinux32:
		persona = 0x0008
	default:
		return fmt.Errorf("personality domain %q is not supported", p.Domain)
	}
	if len(p.Flags) > 0 {
		return fmt.Errorf("personality flags %v are not supported", p.Flags)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, persona, 0, 0); e != 0 {
		return fmt.Errorf("set personality %s: %w", p.Domain, e)
	}
	return nil
}

func apparmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(data), "Y")
}

func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// checkLabels refuses, at create, a label the host cannot apply.
func checkLabels(s *specs.Spec) error {
	if s.Process.ApparmorProfile != "" && !apparmorEnabled() {
		return classf(errdefs.ErrNotImplemented, "apparmor profile %q requested but AppArmor is not enabled on this host", s.Process.ApparmorProfile)
	}
	if (s.Process.SelinuxLabel != "" || s.Linux.MountLabel != "") && !selinuxEnabled() {
		return classf(errdefs.ErrNotImplemented, "selinux label requested but SELinux is not enabled on this host")
	}
	if s.Linux.IntelRdt != nil {
		return classf(errdefs.ErrNotImplemented, "linux.intelRdt is not supported")
	}
	return nil
}

// setLabels arranges the AppArmor profile and SELinux label the kernel
// applies at the next execve.
func setLabels(p *specs.Process) error {
	if p.ApparmorProfile != "" {
		if !apparmorEnabled() {
			return fmt.Errorf("apparmor profile %q requested but AppArmor is not enabled on this host", p.ApparmorProfile)
		}
		if err := writeAttr("apparmor/exec", "exec "+p.ApparmorProfile); err != nil {
			if err2 := writeAttr("exec", "exec "+p.ApparmorProfile); err2 != nil {
				return fmt.Errorf("set apparmor profile %q: %w", p.ApparmorProfile, err)
			}
		}
	}
	if p.SelinuxLabel != "" {
		if !selinuxEnabled() {
			return errors.New("selinux label requested but SELinux is not enabled on this host")
		}
		if err := writeAttr("exec", p.SelinuxLabel); err != nil {
			return fmt.Errorf("set selinux label %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}

func writeAttr(name, value string) error {
	return os.WriteFile("/proc/thread-self/attr/"+name, []byte(value), 0)
}

// sendNotifyFD hands the seccomp listener fd to linux.seccomp.listenerPath
// with the container's state, as runtime-spec's "Seccomp State".
func sendNotifyFD(sc *specs.LinuxSeccomp, fd int, f *finalizer) error {
	if sc.ListenerPath == "" {
		return errors.New("seccomp: SCMP_ACT_NOTIFY is used but linux.seccomp.listenerPath is empty")
	}
	st := specs.ContainerProcessState{
		Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: f.initPid,
		Metadata: sc.ListenerMetadata,
		State:    specs.State{Version: specs.Version, ID: f.id, Status: specs.StateCreating, Pid: f.initPid, Bundle: f.bundle},
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	// The runtime connected to the listener before the container's root
	// changed; init got the connection as f.listenerFD.
	if f.listenerFD < 0 {
		return fmt.Errorf("seccomp listener %s is not connected", sc.ListenerPath)
	}
	defer unix.Close(f.listenerFD)
	if err := unix.Sendmsg(f.listenerFD, data, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("send seccomp fd to %s: %w", sc.ListenerPath, err)
	}
	return nil
}
