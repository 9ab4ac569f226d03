package container

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/spec"
)

var cloneFlag = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// nsPlan says how the init process gets its namespaces.
type nsPlan struct {
	newFlags uintptr  // namespaces to create
	join     []string // "TYPE:PATH" lines to join, for nsexec
	timens   string   // timens_offsets content
	userns   bool     // the container has a user namespace (new or joined)
	newUser  bool
	nodump   bool // joining a running container: stay non-dumpable until execve
}

// nativeClone reports whether Go's clone can create every namespace:
// nothing to join, and no time namespace (clone(2) cannot create one). The
// cgroup namespace is created later by init, once it is in its cgroup.
func (p nsPlan) nativeClone() bool {
	return len(p.join) == 0 && p.newFlags&unix.CLONE_NEWTIME == 0
}

// fork reports whether nsexec must fork so that a pid or time namespace
// applies to init.
func (p nsPlan) fork() bool {
	if p.newFlags&(unix.CLONE_NEWPID|unix.CLONE_NEWTIME) != 0 {
		return true
	}
	for _, j := range p.join {
		if strings.HasPrefix(j, "pid:") || strings.HasPrefix(j, "time:") {
			return true
		}
	}
	return false
}

func planNamespaces(l *specs.Linux) (nsPlan, error) {
	var p nsPlan
	for _, ns := range l.Namespaces {
		if ns.Type == specs.UserNamespace {
			p.userns = true
		}
		if ns.Path == "" {
			p.newFlags |= cloneFlag[ns.Type]
			if ns.Type == specs.UserNamespace {
				p.newUser = true
			}
			continue
		}
		name, _ := spec.NamespaceProcName(ns.Type)
		if strings.ContainsAny(ns.Path, "\n") {
			return p, fmt.Errorf("namespace %s path %q holds a newline", ns.Type, ns.Path)
		}
		if _, err := os.Stat(ns.Path); err != nil {
			return p, fmt.Errorf("join %s namespace: %w", ns.Type, err)
		}
		line := name + ":" + ns.Path
		if ns.Type == specs.UserNamespace {
			p.join = append([]string{line}, p.join...)
		} else {
			p.join = append(p.join, line)
		}
	}
	if p.newFlags&unix.CLONE_NEWTIME != 0 {
		var b strings.Builder
		for clock, off := range l.TimeOffsets {
			fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
		p.timens = b.String()
	}
	return p, nil
}

// env returns nsexec's environment for this plan.
func (p nsPlan) env(syncFD int) []string {
	return []string{
		"_BERTH_NSEXEC=1",
		"_BERTH_SYNC=" + strconv.Itoa(syncFD),
		"_BERTH_NSJOIN=" + strings.Join(p.join, "\n"),
		"_BERTH_NSNEW=" + strconv.FormatUint(uint64(p.newFlags), 10),
		"_BERTH_TIMENS=" + p.timens,
		"_BERTH_NSFORK=" + boolEnv(p.fork()),
		"_BERTH_NODUMP=" + boolEnv(p.nodump),
	}
}

func boolEnv(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// writeIDMaps writes the user namespace maps of pid. setgroups stays
// allowed: init sets the process's additional groups.
func writeIDMaps(pid int, l *specs.Linux) error {
	for _, m := range []struct {
		file string
		ms   []specs.LinuxIDMapping
	}{{"uid_map", l.UIDMappings}, {"gid_map", l.GIDMappings}} {
		var b strings.Builder
		for _, e := range m.ms {
			fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
		}
		p := fmt.Sprintf("/proc/%d/%s", pid, m.file)
		if err := os.WriteFile(p, []byte(b.String()), 0); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

func sysProcIDMaps(ms []specs.LinuxIDMapping) []syscallIDMap {
	out := make([]syscallIDMap, len(ms))
	for i, m := range ms {
		out[i] = syscallIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
	}
	return out
}
