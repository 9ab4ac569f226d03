package spec

import (
	"maps"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Input is one container's create request and what the caller prepared
// for it.
type Input struct {
	// ID is the container's ID: its cgroup's name and default hostname.
	ID string
	// Config and HostConfig are the request's (nil means empty).
	Config     *container.Config
	HostConfig *container.HostConfig
	// Image is the image's configuration (nil for none).
	Image *ocispec.ImageConfig
	// Rootfs is the host path of the container's root filesystem, where
	// /etc/passwd and /etc/group name the user; "" means it has neither.
	Rootfs string
	// Files are the host paths of the files bound at /etc/hosts,
	// /etc/hostname and /etc/resolv.conf ("" = not bound).
	Files Files
	// Namespaces are paths of namespaces to join: required for a
	// "container:ID" network, IPC or PID mode (the other container's
	// /proc/PID/ns/...), optional for a network namespace prepared ahead.
	Namespaces map[specs.LinuxNamespaceType]string
	// ShmPath is the host directory bound at /dev/shm with --ipc shareable
	// or container:ID ("" = a tmpfs of the container's own).
	ShmPath string
}

// Files names the network files the caller wrote for the container.
type Files struct {
	Hosts, Hostname, ResolvConf string
}

// Result is the generated configuration and what the caller must do with
// it besides writing Spec as config.json.
type Result struct {
	Spec *specs.Spec
	// Config is the request's merged with the image's, with the default
	// hostname; HostConfig has Docker's create-time defaults filled in
	// (swap, shm size, IPC and cgroup namespace modes). Both are what
	// inspect shows.
	Config     *container.Config
	HostConfig *container.HostConfig
	// StopSignal stops the container (SIGTERM unless the request or the
	// image say otherwise); StopTimeout is the request's, if any.
	StopSignal  unix.Signal
	StopTimeout *int
	// HostDirs are bind sources missing on the host, to create (0755)
	// before the container starts, as Docker does for -v.
	HostDirs []string
	// Warnings are Docker's warnings for settings it discards.
	Warnings []string
}

// builder carries one Generate call.
type builder struct {
	in           Input
	o            *options
	cfg          *container.Config
	hc           *container.HostConfig
	sec          secOpts
	s            *specs.Spec
	res          *Result
	volumeMounts []int // indexes in s.Mounts of volumes to resolve
	volumeReqs   []volumeReq
}

func (b *builder) warn(w string) { b.res.Warnings = append(b.res.Warnings, w) }

// Generate builds the OCI configuration of a container. Errors for bad
// requests wrap errdefs.ErrInvalidArgument; see the package documentation.
func Generate(in Input, opts ...Option) (*Result, error) {
	o := newOptions(opts)
	if !validID(in.ID) {
		return nil, invalidf("invalid container ID %q", in.ID)
	}
	cfg, err := MergeImage(in.Config, in.Image)
	if err != nil {
		return nil, err
	}
	hc := &container.HostConfig{}
	if in.HostConfig != nil {
		*hc = *in.HostConfig
	}
	b := &builder{in: in, o: o, cfg: cfg, hc: hc, res: &Result{Config: cfg, HostConfig: hc}}
	b.s = &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: o.rootPath, Readonly: hc.ReadonlyRootfs},
		Process: &specs.Process{},
		Linux:   &specs.Linux{Resources: &specs.LinuxResources{}},
	}
	if b.res.StopSignal, err = ParseSignal(cfg.StopSignal); err != nil {
		return nil, err
	}
	if cfg.StopTimeout != nil && *cfg.StopTimeout < -1 {
		return nil, invalidf("invalid stop timeout %d: -1 (wait forever) or more", *cfg.StopTimeout)
	}
	b.res.StopTimeout = cfg.StopTimeout
	var warnings []string
	if b.sec, warnings, err = parseSecurityOpts(hc.SecurityOpt, o.noNewPrivs); err != nil {
		return nil, err
	}
	b.res.Warnings = append(b.res.Warnings, warnings...)
	b.adaptResources()
	for _, step := range []func() error{
		b.adaptModes, b.process, b.user, b.capabilities, b.namespaces, b.mounts,
		b.maskedPaths, b.devices, b.resources, b.sysctls, b.seccomp, b.annotations, b.volumes,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.res.Spec = b.s
	return b.res, nil
}

// validID accepts what can name a cgroup and a hostname: letters, digits,
// '_', '.', '-', not starting with '.'.
func validID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return false
	}
	return strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

// user resolves the process's identity in the rootfs, with the primary
// group first among the additional ones (CVE-2022-36109: a process must not
// drop its primary group by setgroups).
func (b *builder) user() error {
	passwd, group, err := readIDFilesInRoot(b.in.Rootfs)
	if err != nil {
		return err
	}
	u, err := resolveUser(b.cfg.User, passwd, group)
	if err != nil {
		return err
	}
	extra, err := additionalGroups(b.hc.GroupAdd, group)
	if err != nil {
		return err
	}
	p := &b.s.Process.User
	p.UID, p.GID = uint32(u.uid), uint32(u.gid)
	p.AdditionalGids = []uint32{p.GID}
	for _, g := range append(u.sgids, extra...) {
		if !slices.Contains(p.AdditionalGids, uint32(g)) {
			p.AdditionalGids = append(p.AdditionalGids, uint32(g))
		}
	}
	return nil
}

// capabilities sets bounding, effective and permitted alike; inheritable
// and ambient stay empty, so a non-root process has no capabilities after
// execve, as in Docker since 20.10.
func (b *builder) capabilities() error {
	caps, err := capabilities(&b.o.host, b.hc.CapAdd, b.hc.CapDrop, b.hc.Privileged)
	if err != nil {
		return err
	}
	b.s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: caps, Effective: slices.Clone(caps), Permitted: slices.Clone(caps),
	}
	return nil
}

// maskedPaths hides and write-protects parts of /proc and /sys, unless the
// container is privileged or the request lists its own (an empty list, as
// --security-opt systempaths=unconfined sends, means none).
func (b *builder) maskedPaths() error {
	l := b.s.Linux
	if b.hc.Privileged {
		return nil
	}
	l.MaskedPaths = append(defaultMaskedPaths(), b.o.host.MaskedPaths...)
	l.ReadonlyPaths = defaultReadonlyPaths()
	if b.hc.MaskedPaths != nil {
		l.MaskedPaths = slices.Clone(b.hc.MaskedPaths)
	}
	if b.hc.ReadonlyPaths != nil {
		l.ReadonlyPaths = slices.Clone(b.hc.ReadonlyPaths)
	}
	for _, p := range append(slices.Clone(l.MaskedPaths), l.ReadonlyPaths...) {
		if _, err := cleanDest(p); err != nil {
			return invalidWrap(err, "invalid masked or read-only path: %v", err)
		}
	}
	return nil
}

func defaultMaskedPaths() []string {
	return []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
	}
}

func defaultReadonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}

// seccomp picks the filter: none when privileged or unconfined, the
// request's profile, the daemon's, or DefaultProfile.
func (b *builder) seccomp() error {
	if b.hc.Privileged || b.sec.seccomp == "unconfined" {
		return nil
	}
	p := b.o.seccomp
	switch {
	case b.sec.seccomp == "builtin":
		p = DefaultProfile()
	case b.sec.seccomp != "":
		var err error
		if p, err = ParseProfile([]byte(b.sec.seccomp)); err != nil {
			return err
		}
	case b.o.unconfined:
		return nil
	case p == nil:
		p = DefaultProfile()
	}
	sc, err := p.Spec(b.s.Process.Capabilities.Bounding, b.o.host)
	if err != nil {
		return err
	}
	b.s.Linux.Seccomp = sc
	return nil
}

func (b *builder) annotations() error {
	if len(b.hc.Annotations) > 0 {
		b.s.Annotations = maps.Clone(b.hc.Annotations)
	}
	return nil
}

// volumes asks the volume service for the host directories of volume
// mounts, last, once nothing else can fail.
func (b *builder) volumes() error {
	for i, idx := range b.volumeMounts {
		m := &b.s.Mounts[idx]
		req := b.volumeReqs[i]
		src, err := b.o.volumes(req.name, m.Destination, req.opts)
		if err != nil {
			return err
		}
		m.Source = src
	}
	return nil
}
