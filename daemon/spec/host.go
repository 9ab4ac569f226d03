package spec

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Host is what spec generation needs to know about the machine: berthd
// calls ProbeHost once at start, tests build one by hand. The zero value
// describes a capable modern host; it still looks up bind sources and
// device nodes on the live system (Stat and Devices nil).
type Host struct {
	// Arch is the GOARCH of the host ("" = this build's).
	Arch string
	// Kernel is the running kernel's version, for seccomp minKernel rules;
	// zero means new enough for every rule.
	Kernel KernelVersion
	// Caps are the capabilities a container may hold: those --privileged
	// and --cap-add ALL grant. Nil means every capability this build knows.
	Caps []string
	// CgroupV2 selects Docker's cgroup v2 defaults (a private cgroup
	// namespace even when privileged).
	CgroupV2 bool
	// Hostname is the host's name, the container's with --network host.
	Hostname string
	// NumCPU bounds --cpus (0 = unchecked); CPUs and Mems are the cpuset
	// lists available ("" = unchecked).
	NumCPU     int
	CPUs, Mems string
	// NoSwapAccounting drops the swap limit, as Docker does on hosts
	// without memory.memsw (swapaccount=0).
	NoSwapAccounting bool
	// RecursiveReadonly is true when the kernel can make a bind read-only
	// with its submounts (mount_setattr, Linux 5.12).
	RecursiveReadonly bool
	// MaskedPaths are host-specific paths masked besides the defaults (the
	// thermal_throttle directories of the CPUs).
	MaskedPaths []string
	// Sysctls reports whether a sysctl exists; nil = every one does. The
	// default sysctls Docker sets are left out where the kernel lacks them.
	Sysctls func(name string) bool
	// Stat looks up bind sources on the host; nil = os.Stat.
	Stat func(path string) (fs.FileInfo, error)
	// Devices lists the device nodes at or under a host path, with host
	// paths (--device, blkio limits, and /dev for --privileged); nil =
	// DeviceNodes.
	Devices func(path string) ([]specs.LinuxDevice, error)
}

func (h *Host) arch() string {
	if h.Arch != "" {
		return h.Arch
	}
	return runtime.GOARCH
}

func (h *Host) stat(p string) (fs.FileInfo, error) {
	if h.Stat != nil {
		return h.Stat(p)
	}
	return os.Stat(p)
}

func (h *Host) devices(p string) ([]specs.LinuxDevice, error) {
	if h.Devices != nil {
		return h.Devices(p)
	}
	return DeviceNodes(p)
}

func (h *Host) hasSysctl(name string) bool {
	return h.Sysctls == nil || h.Sysctls(name)
}

// ProbeHost reads the facts of the running host.
func ProbeHost() (Host, error) {
	h := Host{Arch: runtime.GOARCH, NumCPU: runtime.NumCPU(), Stat: os.Stat, Devices: DeviceNodes}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return h, fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	k, err := ParseKernelVersion(release)
	if err != nil {
		return h, err
	}
	h.Kernel = k
	h.RecursiveReadonly = k.atLeast(KernelVersion{5, 12})
	if h.Hostname, err = os.Hostname(); err != nil {
		return h, fmt.Errorf("hostname: %w", err)
	}
	if h.Caps, err = boundingCaps(); err != nil {
		return h, err
	}
	h.CgroupV2 = fileExists("/sys/fs/cgroup/cgroup.controllers")
	h.NoSwapAccounting = !h.CgroupV2 && !fileExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	if b, err := os.ReadFile("/sys/fs/cgroup/cpuset/cpuset.cpus"); err == nil {
		h.CPUs = strings.TrimSpace(string(b))
	} else if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		h.CPUs = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/sys/devices/system/node/online"); err == nil {
		h.Mems = strings.TrimSpace(string(b))
	}
	// GHSA-6fw5-f8r9-fgfm: per-CPU thermal counters leak host activity.
	cpus, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	h.MaskedPaths = cpus
	h.Sysctls = func(name string) bool {
		return fileExists("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	}
	return h, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// boundingCaps lists the capabilities the kernel supports that are still in
// this process's bounding set: a container cannot be given more.
func boundingCaps() ([]string, error) {
	sup, err := capability.ListSupported()
	if err != nil {
		return nil, fmt.Errorf("list supported capabilities: %w", err)
	}
	var out []string
	for _, c := range sup {
		in, err := capability.GetBound(c)
		if err != nil {
			return nil, fmt.Errorf("read bounding set: %w", err)
		}
		if in {
			out = append(out, capName(c))
		}
	}
	return out, nil
}

func capName(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

// KernelVersion is a kernel release as "<kernel>.<major>" (the "6.1" of
// "6.1.0-13-amd64"), the precision of seccomp profiles' minKernel.
type KernelVersion struct {
	Kernel, Major uint64
}

func (k KernelVersion) String() string { return fmt.Sprintf("%d.%d", k.Kernel, k.Major) }

func (k KernelVersion) atLeast(o KernelVersion) bool {
	return k.Kernel > o.Kernel || (k.Kernel == o.Kernel && k.Major >= o.Major)
}

// ParseKernelVersion reads the first two numbers of a kernel release.
func ParseKernelVersion(release string) (KernelVersion, error) {
	var k KernelVersion
	first, rest, ok := strings.Cut(release, ".")
	if !ok {
		return k, fmt.Errorf("kernel version %q: want <kernel>.<major>", release)
	}
	second := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		second = rest[:i]
	}
	var err error
	if k.Kernel, err = strconv.ParseUint(first, 10, 16); err != nil {
		return k, fmt.Errorf("kernel version %q: %w", release, err)
	}
	if k.Major, err = strconv.ParseUint(second, 10, 16); err != nil {
		return k, fmt.Errorf("kernel version %q: %w", release, err)
	}
	return k, nil
}

// MarshalJSON writes "<kernel>.<major>", as Docker's profiles do.
func (k KernelVersion) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// UnmarshalJSON reads "<kernel>.<major>" (exactly two numbers, not 0.0).
func (k *KernelVersion) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("invalid kernel version %s, expected \"<kernel>.<major>\"", b)
	}
	a, m, ok := strings.Cut(s, ".")
	ka, err1 := strconv.ParseUint(a, 10, 8)
	km, err2 := strconv.ParseUint(m, 10, 8)
	if !ok || err1 != nil || err2 != nil || (ka == 0 && km == 0) {
		return fmt.Errorf("invalid kernel version %q, expected \"<kernel>.<major>\"", s)
	}
	*k = KernelVersion{ka, km}
	return nil
}
