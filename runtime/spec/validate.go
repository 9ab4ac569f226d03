package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Namespace types known to the runtime and their /proc/PID/ns names.
var nsProcName = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// NamespaceProcName returns the name of a namespace type under /proc/PID/ns.
func NamespaceProcName(t specs.LinuxNamespaceType) (string, bool) {
	n, ok := nsProcName[t]
	return n, ok
}

// NamespaceTypes lists the namespace types the runtime supports.
func NamespaceTypes() []string {
	return []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"}
}

// Validate checks a configuration for what the runtime needs to create a
// container from it.
func Validate(s *specs.Spec) error {
	if err := CheckVersion(s.Version); err != nil {
		return err
	}
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("root.path is missing")
	}
	if s.Process == nil {
		return errors.New("process is missing")
	}
	if err := ValidateProcess(s.Process); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if m.Destination == "" {
			return fmt.Errorf("mounts[%d]: destination is missing", i)
		}
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d]: destination %q is not absolute", i, m.Destination)
		}
	}
	if s.Linux == nil {
		return errors.New("linux is missing")
	}
	return validateLinux(s)
}

// ValidateProcess checks a process description (config.json's process, or the
// --process file of exec).
func ValidateProcess(p *specs.Process) error {
	if len(p.Args) == 0 && p.CommandLine == "" {
		return errors.New("process.args is empty")
	}
	if p.Cwd == "" {
		return errors.New("process.cwd is missing")
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q is not absolute", p.Cwd)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("process.env entry %q is not NAME=VALUE", e)
		}
	}
	for _, r := range p.Rlimits {
		if _, ok := RlimitResource(r.Type); !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d exceeds hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	return nil
}

func validateLinux(s *specs.Spec) error {
	l := s.Linux
	seen := map[specs.LinuxNamespaceType]bool{}
	user := false
	userPath := false
	for _, ns := range l.Namespaces {
		if _, ok := nsProcName[ns.Type]; !ok {
			return fmt.Errorf("linux.namespaces: unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("linux.namespaces: namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return fmt.Errorf("linux.namespaces: %s path %q is not absolute", ns.Type, ns.Path)
		}
		if ns.Type == specs.UserNamespace {
			user = true
			userPath = ns.Path != ""
		}
	}
	if user && !userPath {
		if len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
			return errors.New("linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings")
		}
	}
	if !user && (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) {
		return errors.New("linux.uidMappings: mappings are set but there is no user namespace")
	}
	for _, set := range []struct {
		name string
		m    []specs.LinuxIDMapping
	}{{"uidMappings", l.UIDMappings}, {"gidMappings", l.GIDMappings}} {
		if err := validateMappings(set.name, set.m); err != nil {
			return err
		}
	}
	if l.TimeOffsets != nil && !seen[specs.TimeNamespace] {
		return errors.New("linux.timeOffsets: offsets are set but there is no time namespace")
	}
	if (s.Hostname != "" || s.Domainname != "") && !seen[specs.UTSNamespace] {
		return errors.New("hostname: setting a hostname needs a uts namespace")
	}
	for k := range l.Sysctl {
		if err := checkSysctl(k, seen); err != nil {
			return err
		}
	}
	for i, d := range l.Devices {
		if !filepath.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices[%d]: path %q is not absolute", i, d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return fmt.Errorf("linux.devices[%d]: %s has unknown type %q", i, d.Path, d.Type)
		}
	}
	switch l.RootfsPropagation {
	case "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable":
	default:
		return fmt.Errorf("linux.rootfsPropagation: unknown value %q", l.RootfsPropagation)
	}
	return nil
}

func validateMappings(name string, ms []specs.LinuxIDMapping) error {
	for i, m := range ms {
		if m.Size == 0 {
			return fmt.Errorf("linux.%s[%d]: size is 0", name, i)
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			return fmt.Errorf("linux.%s[%d]: range overflows 32 bits", name, i)
		}
		for j := 0; j < i; j++ {
			o := ms[j]
			if m.ContainerID < o.ContainerID+o.Size && o.ContainerID < m.ContainerID+m.Size {
				return fmt.Errorf("linux.%s[%d]: container range overlaps entry %d", name, i, j)
			}
		}
	}
	return nil
}

// ipcSysctls are the kernel.* sysctls an ipc namespace isolates.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// checkSysctl refuses a sysctl that the container's namespaces do not
// isolate: writing it would change the host.
func checkSysctl(k string, ns map[specs.LinuxNamespaceType]bool) error {
	if k == "" || strings.Contains(k, "..") || strings.ContainsAny(k, " /") || strings.HasPrefix(k, ".") {
		return fmt.Errorf("linux.sysctl: invalid key %q", k)
	}
	need := specs.LinuxNamespaceType("")
	switch {
	case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
		need = specs.IPCNamespace
	case strings.HasPrefix(k, "net."):
		need = specs.NetworkNamespace
	case k == "kernel.hostname" || k == "kernel.domainname":
		need = specs.UTSNamespace
	default:
		return fmt.Errorf("linux.sysctl: %s is not namespaced; setting it would change the host", k)
	}
	if !ns[need] {
		return fmt.Errorf("linux.sysctl: %s needs a %s namespace of the container's own; setting it would change the host", k, need)
	}
	return nil
}
