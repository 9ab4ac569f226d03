package spec

import (
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// Daemon-wide defaults, Docker's unless said otherwise.
const (
	// DefaultCgroupParent is the cgroup every container's sits under.
	DefaultCgroupParent = "/berth"
	// DefaultPidsLimit is berth's own: Docker sets no pids limit unless
	// asked, berth caps every container that did not ask for one.
	DefaultPidsLimit = 4096
	// DefaultShmSize is /dev/shm's size when the request sets none.
	DefaultShmSize = 64 << 20
	// DefaultRootPath is the rootfs path written in the spec, relative to
	// the bundle.
	DefaultRootPath = "rootfs"
	// InitPath is where --init's reaper appears inside the container.
	InitPath = "/sbin/berth-init"
)

// VolumeFunc returns the host directory backing a volume: name is "" for a
// new anonymous volume. Generate calls it only after every other check has
// passed, once per volume, in mount order; if Generate then fails, the
// caller removes the anonymous volumes it created.
type VolumeFunc func(name, dest string, opts *mount.VolumeOptions) (hostPath string, err error)

// Option sets a daemon-wide default of spec generation.
type Option func(*options)

type options struct {
	host         Host
	cgroupParent string
	ulimits      []*container.Ulimit
	pidsLimit    int64
	initBinary   string
	initDefault  bool
	noNewPrivs   bool
	seccomp      *Profile
	unconfined   bool
	shmSize      int64
	ipcMode      container.IpcMode
	cgroupnsMode container.CgroupnsMode
	rootPath     string
	volumes      VolumeFunc
}

func newOptions(opts []Option) *options {
	o := &options{
		cgroupParent: DefaultCgroupParent,
		pidsLimit:    DefaultPidsLimit,
		shmSize:      DefaultShmSize,
		ipcMode:      container.IPCModePrivate,
		rootPath:     DefaultRootPath,
	}
	for _, f := range opts {
		f(o)
	}
	return o
}

// WithHost sets the host facts (ProbeHost's result).
func WithHost(h Host) Option { return func(o *options) { o.host = h } }

// WithCgroupParent sets the parent of containers' cgroups (daemon.json
// "cgroup-parent"); a request's CgroupParent overrides it.
func WithCgroupParent(p string) Option {
	return func(o *options) {
		if p != "" {
			o.cgroupParent = p
		}
	}
}

// WithDefaultUlimits sets the daemon's --default-ulimit values, applied to
// every rlimit the request does not set.
func WithDefaultUlimits(u ...*container.Ulimit) Option {
	return func(o *options) { o.ulimits = append(o.ulimits, u...) }
}

// WithDefaultPidsLimit sets the pids limit of containers whose request has
// none; 0 or less leaves them unlimited, as Docker does.
func WithDefaultPidsLimit(n int64) Option { return func(o *options) { o.pidsLimit = n } }

// WithInit names the host path of the init binary bound at InitPath for
// --init, and whether containers get it without asking (daemon.json "init").
func WithInit(hostPath string, byDefault bool) Option {
	return func(o *options) { o.initBinary, o.initDefault = hostPath, byDefault }
}

// WithNoNewPrivileges sets no_new_privs for every container (daemon.json
// "no-new-privileges"); security-opt no-new-privileges=false undoes it.
func WithNoNewPrivileges(on bool) Option { return func(o *options) { o.noNewPrivs = on } }

// WithSeccompProfile replaces DefaultProfile as the daemon's default
// (daemon.json "seccomp-profile"); nil means unconfined by default.
func WithSeccompProfile(p *Profile) Option {
	return func(o *options) { o.seccomp, o.unconfined = p, p == nil }
}

// WithShmSize sets /dev/shm's default size (daemon.json "default-shm-size").
func WithShmSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.shmSize = n
		}
	}
}

// WithIpcMode sets the default IPC mode (daemon.json "default-ipc-mode":
// "private" or "shareable").
func WithIpcMode(m container.IpcMode) Option {
	return func(o *options) {
		if m != "" {
			o.ipcMode = m
		}
	}
}

// WithCgroupnsMode sets the default cgroup namespace mode (daemon.json
// "default-cgroupns-mode"); unset, it is Docker's: host on cgroup v1,
// private on v2.
func WithCgroupnsMode(m container.CgroupnsMode) Option {
	return func(o *options) { o.cgroupnsMode = m }
}

// WithRootPath sets root.path of the spec (default "rootfs", beside
// config.json in the bundle).
func WithRootPath(p string) Option {
	return func(o *options) {
		if p != "" {
			o.rootPath = p
		}
	}
}

// WithVolumes lets Generate resolve named and anonymous volumes.
func WithVolumes(f VolumeFunc) Option { return func(o *options) { o.volumes = f } }
