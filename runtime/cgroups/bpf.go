package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw bpf(2), for the one job of installing a device filter on a cgroup2
// directory. The attribute structs mirror the leading fields of the
// kernel's union bpf_attr for each command; the kernel zero-extends a
// shorter struct, so later fields need not be declared.

// bpfPtr is a 64-bit pointer field (__aligned_u64) that the garbage
// collector still sees. It is a plain pointer, so the structs below are laid
// out right on 64-bit platforms only, which the next line enforces at
// compile time.
type bpfPtr = unsafe.Pointer

const _ = uint64(unsafe.Sizeof(uintptr(0)) - 8) // fails to compile unless pointers have 8 bytes

type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       bpfPtr
	license     bpfPtr
	logLevel    uint32
	logSize     uint32
	logBuf      bpfPtr
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type progQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     bpfPtr
	progCnt     uint32
	_           uint32
}

type progGetFdAttr struct {
	progID    uint32
	nextID    uint32
	openFlags uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// attachDeviceFilter replaces the device programs attached to the cgroup dir
// by prog: the new one is attached first (BPF_F_ALLOW_MULTI) and the old
// ones detached after, so the cgroup is never left without a filter.
func attachDeviceFilter(dir string, prog []insn) error {
	cg, err := openRetry(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	old, err := queryDevicePrograms(cg)
	if err != nil {
		return err
	}
	pfd, err := loadDeviceProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	attach := progAttachAttr{
		targetFd:    uint32(cg),
		attachBpfFd: uint32(pfd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		return fmt.Errorf("attach device program: %w", err)
	}
	var errs []error
	for _, id := range old {
		if err := detachProgram(cg, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func loadDeviceProgram(prog []insn) (int, error) {
	code := encode(prog)
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    unsafe.Pointer(&code[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	copy(attr.progName[:], "berth_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		return fd, nil
	}
	if err == unix.EACCES || err == unix.EINVAL {
		// Load again with the verifier's log, to say why it refused.
		log := make([]byte, 64*1024)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = unsafe.Pointer(&log[0])
		if fd, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
			return fd, nil
		}
		if n := bytes.IndexByte(log, 0); n > 0 {
			return -1, fmt.Errorf("load device program: %w: %s", err, bytes.TrimSpace(log[:n]))
		}
	}
	return -1, fmt.Errorf("load device program: %w", err)
}

// queryDevicePrograms lists the ids of device programs attached directly to
// the cgroup.
func queryDevicePrograms(cg int) ([]uint32, error) {
	ids := make([]uint32, 8)
	for {
		q := progQueryAttr{
			targetFd:   uint32(cg),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    unsafe.Pointer(&ids[0]),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&q), unsafe.Sizeof(q))
		if err == unix.ENOSPC && int(q.progCnt) > len(ids) {
			ids = make([]uint32, q.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("query device programs: %w", err)
		}
		return ids[:q.progCnt], nil
	}
}

func detachProgram(cg int, id uint32) error {
	g := progGetFdAttr{progID: id}
	pfd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&g), unsafe.Sizeof(g))
	if err != nil {
		if err == unix.ENOENT { // gone meanwhile
			return nil
		}
		return fmt.Errorf("open device program %d: %w", id, err)
	}
	defer unix.Close(pfd)
	d := progAttachAttr{targetFd: uint32(cg), attachBpfFd: uint32(pfd), attachType: unix.BPF_CGROUP_DEVICE}
	if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&d), unsafe.Sizeof(d)); err != nil && err != unix.ENOENT {
		return fmt.Errorf("detach device program %d: %w", id, err)
	}
	return nil
}
