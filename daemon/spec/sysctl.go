package spec

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ipcSysctls are the kernel.* sysctls an IPC namespace isolates.
func ipcSysctl(k string) bool {
	switch k {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return true
	}
	return strings.HasPrefix(k, "fs.mqueue.")
}

// sysctls sets Docker's defaults for a container with a network namespace
// of its own (ping without CAP_NET_RAW, ports below 1024 without
// CAP_NET_BIND_SERVICE) and the request's, which may override them. Only
// sysctls the container's own namespaces isolate are allowed: net.* with
// its own network namespace, the IPC ones with its own IPC namespace.
func (b *builder) sysctls() error {
	out := map[string]string{}
	ownNet := !b.hc.NetworkMode.IsHost() && !b.hc.NetworkMode.IsContainer()
	ownIPC := !b.hc.IpcMode.IsHost() && !b.hc.IpcMode.IsContainer()
	if ownNet {
		if b.o.host.hasSysctl("net.ipv4.ping_group_range") {
			out["net.ipv4.ping_group_range"] = "0 2147483647"
		}
		if b.o.host.hasSysctl("net.ipv4.ip_unprivileged_port_start") {
			out["net.ipv4.ip_unprivileged_port_start"] = "0"
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b.hc.Sysctls)) {
		v := b.hc.Sysctls[k]
		if !validSysctlKey(k) || strings.ContainsAny(v, "\x00\n") {
			return invalidf("sysctl '%s=%s' is not allowed", k, v)
		}
		switch {
		case k == "kernel.hostname" || k == "kernel.domainname":
			return invalidf("sysctl '%s' is not allowed: set the container's %s instead", k, strings.TrimPrefix(k, "kernel."))
		case strings.HasPrefix(k, "net."):
			if !ownNet {
				return invalidf("sysctl '%s' is not allowed: the container shares a network namespace (network mode %s)", k, b.hc.NetworkMode)
			}
		case ipcSysctl(k):
			if !ownIPC {
				return invalidf("sysctl '%s' is not allowed: the container shares an IPC namespace (IPC mode %s)", k, b.hc.IpcMode)
			}
		default:
			return invalidf("sysctl '%s' is not allowed: it is not namespaced, so setting it would change the host", k)
		}
		out[k] = v
	}
	b.s.Linux.Sysctl = out
	return nil
}

// validSysctlKey accepts dotted names of letters, digits, '_' and '-'
// (network interface names in net.ipv4.conf.IFACE.*), so that a key
// cannot walk /proc/sys with ".." or "/".
func validSysctlKey(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for _, part := range strings.Split(k, ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkCPUSet checks a cpuset list ("0-3,6") and, when the host's is
// known, that every CPU or memory node it names is available.
func checkCPUSet(kind, list, avail string) error {
	if list == "" {
		return nil
	}
	want, err := parseCPUSet(list)
	if err != nil {
		return invalidf("invalid value %s for cpuset %s", list, kind)
	}
	if avail == "" {
		return nil
	}
	have, err := parseCPUSet(avail)
	if err != nil {
		return nil // the host's own list is not ours to judge
	}
	for n := range want {
		if !have[n] {
			what := "CPUs"
			if kind == "mems" {
				what = "memory nodes"
			}
			return invalidf("requested %s are not available - requested %s, available: %s", what, list, avail)
		}
	}
	return nil
}

// parseCPUSet reads the kernel's list format, bounded to 8192 entries.
func parseCPUSet(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, strconv.ErrSyntax
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, strconv.ErrSyntax
			}
		}
		if b >= 8192 {
			return nil, strconv.ErrRange
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}
