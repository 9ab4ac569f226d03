package spec

import (
	"path/filepath"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// namespaces picks the container's namespaces from the network, IPC, PID,
// UTS and cgroup namespace modes, in Docker's order: mount, network, uts,
// pid, ipc, cgroup. A "container:ID" mode joins the namespace whose path
// the caller resolved (Input.Namespaces); "host" leaves the namespace out.
func (b *builder) namespaces() error {
	hc := b.hc
	var ns []specs.LinuxNamespace
	own := func(t specs.LinuxNamespaceType) {
		ns = append(ns, specs.LinuxNamespace{Type: t, Path: b.in.Namespaces[t]})
	}
	join := func(t specs.LinuxNamespaceType, mode string) error {
		p := b.in.Namespaces[t]
		if p == "" {
			return invalidf("%s mode %s: the namespace path of the container to join is missing", t, mode)
		}
		ns = append(ns, specs.LinuxNamespace{Type: t, Path: p})
		return nil
	}
	for t, p := range b.in.Namespaces {
		if p != "" && !filepath.IsAbs(p) {
			return invalidf("%s namespace path %q is not absolute", t, p)
		}
	}

	own(specs.MountNamespace)
	switch nm := hc.NetworkMode; {
	case b.cfg.NetworkDisabled:
		own(specs.NetworkNamespace)
	case nm.IsHost():
	case nm.IsContainer():
		if nm.ConnectedContainer() == "" {
			return invalidf("invalid network mode: %s", nm)
		}
		if err := join(specs.NetworkNamespace, string(nm)); err != nil {
			return err
		}
	default:
		own(specs.NetworkNamespace)
	}
	if !hc.UTSMode.Valid() {
		return invalidf("invalid UTS mode: %v", hc.UTSMode)
	}
	if !hc.UTSMode.IsHost() {
		own(specs.UTSNamespace)
	}
	switch pm := hc.PidMode; {
	case !pm.Valid():
		return invalidf("invalid PID mode: %v", pm)
	case pm.IsHost():
	case pm.IsContainer():
		if err := join(specs.PIDNamespace, string(pm)); err != nil {
			return err
		}
	default:
		own(specs.PIDNamespace)
	}
	switch im := hc.IpcMode; {
	case !im.Valid() || (im.IsContainer() && im.Container() == ""):
		return invalidf("invalid IPC mode: %v", im)
	case im.IsHost():
	case im.IsContainer():
		if err := join(specs.IPCNamespace, string(im)); err != nil {
			return err
		}
	default:
		own(specs.IPCNamespace)
	}
	if hc.CgroupnsMode.IsPrivate() {
		own(specs.CgroupNamespace)
	}
	b.s.Linux.Namespaces = ns
	return nil
}

// adaptModes fills the modes the request left empty with the daemon's
// defaults and checks the rest, as Docker does at create.
func (b *builder) adaptModes() error {
	hc := b.hc
	if hc.IpcMode == "" {
		hc.IpcMode = b.o.ipcMode
	}
	if !hc.CgroupnsMode.Valid() {
		return invalidf("invalid cgroup namespace mode: %v", hc.CgroupnsMode)
	}
	if hc.CgroupnsMode.IsEmpty() {
		switch {
		case hc.Privileged && !b.o.host.CgroupV2:
			hc.CgroupnsMode = container.CgroupnsModeHost
		case b.o.cgroupnsMode != "":
			hc.CgroupnsMode = b.o.cgroupnsMode
		case b.o.host.CgroupV2:
			hc.CgroupnsMode = container.CgroupnsModePrivate
		default:
			hc.CgroupnsMode = container.CgroupnsModeHost
		}
	}
	if !hc.CgroupnsMode.Valid() {
		return invalidf("invalid cgroup namespace mode: %v", hc.CgroupnsMode)
	}
	if !hc.UsernsMode.Valid() {
		return invalidf("invalid USER mode: %v", hc.UsernsMode)
	}
	if hc.ShmSize < 0 {
		return invalidf("SHM size can not be less than 0")
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = b.o.shmSize
	}
	nm := hc.NetworkMode
	switch {
	case nm.IsContainer() && b.cfg.Hostname != "":
		return invalidf("conflicting options: hostname and the network mode")
	case hc.UTSMode.IsHost() && b.cfg.Hostname != "":
		return invalidf("conflicting options: hostname and the UTS mode")
	case (nm.IsHost() || nm.IsContainer()) && len(hc.DNS) > 0:
		return invalidf("conflicting options: dns and the network mode")
	case nm.IsContainer() && len(hc.ExtraHosts) > 0:
		return invalidf("conflicting options: custom host-to-IP mapping and the network mode")
	case nm.IsContainer() && (len(hc.PortBindings) > 0 || hc.PublishAllPorts):
		return invalidf("conflicting options: port publishing and the container type network mode")
	case nm.IsContainer() && b.in.Config != nil && len(b.in.Config.ExposedPorts) > 0:
		return invalidf("conflicting options: port exposing and the container type network mode")
	}
	if nm.IsHost() && len(hc.PortBindings) > 0 {
		b.warn("Published ports are discarded when using host network mode")
	}
	return b.hostname()
}

// hostname defaults the container's name as Docker does: the host's with
// --network host or --uts host, else the first 12 characters of the container's ID.
func (b *builder) hostname() error {
	c := b.cfg
	if c.Hostname == "" {
		switch {
		case (b.hc.NetworkMode.IsHost() || b.hc.UTSMode.IsHost()) && b.o.host.Hostname != "":
			c.Hostname = b.o.host.Hostname
		case len(b.in.ID) > 12:
			c.Hostname = b.in.ID[:12]
		default:
			c.Hostname = b.in.ID
		}
	}
	for _, n := range []string{c.Hostname, c.Domainname} {
		if len(n) > 64 {
			return invalidf("invalid hostname format: %s", n)
		}
		for _, r := range n {
			if r <= ' ' || r == '/' || r == 0x7f {
				return invalidf("invalid hostname format: %s", n)
			}
		}
	}
	if !b.hc.UTSMode.IsHost() {
		b.s.Hostname = c.Hostname
		b.s.Domainname = c.Domainname
	}
	return nil
}
