package server

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What GET /info reports about the host, read when asked.

func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func machine() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOARCH
	}
	return unix.ByteSliceToString(u.Machine[:])
}

// osRelease returns PRETTY_NAME and VERSION_ID of /etc/os-release.
func osRelease() (pretty, version string) {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		if data, err = os.ReadFile("/usr/lib/os-release"); err != nil {
			return "Linux", ""
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		switch k {
		case "PRETTY_NAME":
			pretty = v
		case "VERSION_ID":
			version = v
		}
	}
	if pretty == "" {
		pretty = "Linux"
	}
	return pretty, version
}

// cgroupFeatures is what the host's cgroups can limit, as dockerd
// reports it.
type cgroupFeatures struct {
	version                                   string // "1" or "2"
	memory, swap, cfsPeriod, cfsQuota, shares bool
	cpuset, pids, oomKillDisable              bool
}

// probeCgroups looks at /sys/fs/cgroup: cgroup2 when it is a cgroup2
// mount, else the v1 controllers' files.
func probeCgroups() cgroupFeatures {
	const root = "/sys/fs/cgroup"
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		data, _ := os.ReadFile(root + "/cgroup.controllers")
		has := map[string]bool{}
		for _, c := range strings.Fields(string(data)) {
			has[c] = true
		}
		_, swapErr := os.Stat(root + "/init.scope/memory.swap.max")
		if swapErr != nil {
			_, swapErr = os.Stat(root + "/system.slice/memory.swap.max")
		}
		return cgroupFeatures{version: "2", memory: has["memory"], swap: has["memory"] && swapErr == nil,
			cfsPeriod: has["cpu"], cfsQuota: has["cpu"], shares: has["cpu"], cpuset: has["cpuset"], pids: has["pids"]}
	}
	exists := func(p string) bool { _, err := os.Stat(root + "/" + p); return err == nil }
	return cgroupFeatures{
		version:        "1",
		memory:         exists("memory/memory.limit_in_bytes"),
		swap:           exists("memory/memory.memsw.limit_in_bytes"),
		cfsPeriod:      exists("cpu/cpu.cfs_period_us"),
		cfsQuota:       exists("cpu/cpu.cfs_quota_us"),
		shares:         exists("cpu/cpu.shares"),
		cpuset:         exists("cpuset/cpuset.cpus"),
		pids:           exists("pids"),
		oomKillDisable: exists("memory/memory.oom_control"),
	}
}

// openFDs counts this process's open file descriptors.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func ipv4Forwarding() bool {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	return err == nil && strings.TrimSpace(string(data)) == "1"
}

// backingFilesystem names the filesystem a directory is on, as dockerd's
// "Backing Filesystem" does.
func backingFilesystem(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "<unknown>"
	}
	switch int64(st.Type) {
	case unix.EXT4_SUPER_MAGIC:
		return "extfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	case unix.F2FS_SUPER_MAGIC:
		return "f2fs"
	}
	return "0x" + strconv.FormatInt(int64(st.Type), 16)
}
