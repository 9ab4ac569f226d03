package seccomp

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// actionInfo is an OCI action and its SECCOMP_RET_* value, before any errno
// or trace data is or-ed into the low 16 bits.
type actionInfo struct {
	name specs.LinuxSeccompAction
	ret  uint32
	// data marks the actions that take errnoRet: the errno of
	// SCMP_ACT_ERRNO, the ptrace event message of SCMP_ACT_TRACE.
	data bool
}

var actionRets = [...]actionInfo{
	// SCMP_ACT_KILL is libseccomp's old name for killing the thread.
	{specs.ActKill, unix.SECCOMP_RET_KILL_THREAD, false},
	{specs.ActKillThread, unix.SECCOMP_RET_KILL_THREAD, false},
	{specs.ActKillProcess, unix.SECCOMP_RET_KILL_PROCESS, false},
	{specs.ActTrap, unix.SECCOMP_RET_TRAP, false},
	{specs.ActErrno, unix.SECCOMP_RET_ERRNO, true},
	{specs.ActTrace, unix.SECCOMP_RET_TRACE, true},
	{specs.ActAllow, unix.SECCOMP_RET_ALLOW, false},
	{specs.ActLog, unix.SECCOMP_RET_LOG, false},
	{specs.ActNotify, unix.SECCOMP_RET_USER_NOTIF, false},
}

// badArchRet is returned for a syscall whose seccomp_data.arch is not in the
// filter. It kills the whole process rather than one thread, which would
// leave the rest of the process running in an unknown state; kernels older
// than 4.14 lack KILL_PROCESS and treat it as KILL_THREAD.
const badArchRet = unix.SECCOMP_RET_KILL_PROCESS

// Actions returns the action names Compile accepts.
func Actions() []string {
	out := make([]string, len(actionRets))
	for i, a := range actionRets {
		out[i] = string(a.name)
	}
	slices.Sort(out)
	return out
}

// actionRet encodes action as a SECCOMP_RET_* value. errnoRet, when set, is
// the errno (or trace message) and is only valid for the actions that carry
// one; it defaults to EPERM as the runtime spec says.
func actionRet(action specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	i := slices.IndexFunc(actionRets[:], func(a actionInfo) bool { return a.name == action })
	if i < 0 {
		if action == "" {
			return 0, errors.New("missing action")
		}
		return 0, fmt.Errorf("unknown action %q", action)
	}
	a := actionRets[i]
	if !a.data {
		if errnoRet != nil {
			return 0, fmt.Errorf("errnoRet %d given for %s, which takes none", *errnoRet, action)
		}
		return a.ret, nil
	}
	data := uint(unix.EPERM)
	if errnoRet != nil {
		data = *errnoRet
	}
	if data > unix.SECCOMP_RET_DATA {
		return 0, fmt.Errorf("errnoRet %d for %s does not fit in 16 bits", data, action)
	}
	return a.ret | uint32(data), nil
}

// permits reports whether ret lets the syscall run (perhaps after a tracer or
// a notify agent has had its say).
func permits(ret uint32) bool {
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_TRACE, unix.SECCOMP_RET_USER_NOTIF:
		return true
	}
	return false
}
