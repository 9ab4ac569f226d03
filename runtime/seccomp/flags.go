package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// flagTSYNC is listed by runtime-spec's config-linux.md, but specs-go has no
// constant for it.
const flagTSYNC specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// flagInfo is a seccomp(2) filter flag.
type flagInfo struct {
	name specs.LinuxSeccompFlag
	bit  uint
}

// configFlags are the flags a config may ask for.
var configFlags = [...]flagInfo{
	{flagTSYNC, unix.SECCOMP_FILTER_FLAG_TSYNC},
	{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
	{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// loadFlags are all the flags Load may pass, in bit order, for naming the
// one a kernel rejects.
var loadFlags = [...]flagInfo{
	{flagTSYNC, unix.SECCOMP_FILTER_FLAG_TSYNC},
	{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
	{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{"SECCOMP_FILTER_FLAG_NEW_LISTENER (for SCMP_ACT_NOTIFY)", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	{"SECCOMP_FILTER_FLAG_TSYNC_ESRCH (for TSYNC with SCMP_ACT_NOTIFY)", unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
	{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// KnownFlags returns the flag names Compile and Load accept.
func KnownFlags() []string {
	out := make([]string, len(configFlags))
	for i, f := range configFlags {
		out[i] = string(f.name)
	}
	return out
}

// SupportedFlags returns the known flags the running kernel accepts. It
// asks the kernel about each with a seccomp(2) call that installs nothing.
func SupportedFlags() []string {
	var out []string
	for _, f := range configFlags {
		if probeFlag(f.bit) == nil {
			out = append(out, string(f.name))
		}
	}
	return out
}

func flagBits(flags []specs.LinuxSeccompFlag) (uint, error) {
	var bits uint
outer:
	for _, name := range flags {
		for _, f := range configFlags {
			if f.name == name {
				bits |= f.bit
				continue outer
			}
		}
		return 0, fmt.Errorf("compile seccomp filter: unknown flag %q", name)
	}
	return bits, nil
}

// probeFlag asks the kernel whether it accepts bit: SECCOMP_SET_MODE_FILTER
// with a NULL program fails with EFAULT once the flags have passed the
// kernel's checks, and with EINVAL when they have not.
func probeFlag(bit uint) error {
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		bit |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER // the kernel refuses it alone
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(bit), 0)
	switch errno {
	case unix.EFAULT:
		return nil
	case 0:
		return errors.New("seccomp accepted a NULL program")
	}
	return errno
}

// rejectedFlag returns the first flag in bits that probe refuses.
func rejectedFlag(bits uint, probe func(uint) error) (flagInfo, error) {
	for _, f := range loadFlags {
		if bits&f.bit == 0 {
			continue
		}
		if err := probe(f.bit); err != nil {
			return f, err
		}
	}
	return flagInfo{}, nil
}
