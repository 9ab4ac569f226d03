package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBadInput feeds Generate requests Docker refuses; each must fail
// with Docker's message as an invalid-argument error.
func TestBadInput(t *testing.T) {
	res := func(r container.Resources) *container.HostConfig { return &container.HostConfig{Resources: r} }
	tests := []struct {
		name string
		cfg  *container.Config
		hc   *container.HostConfig
		in   func(*Input)
		opts []Option
		err  string
	}{
		{name: "no command", cfg: &container.Config{}, in: func(in *Input) { in.Image = nil }, err: "no command specified"},
		{name: "entrypoint reset drops the image cmd", cfg: &container.Config{Entrypoint: []string{""}}, err: "no command specified"},
		{name: "relative workdir", cfg: &container.Config{Cmd: []string{"sh"}, WorkingDir: "srv"}, err: "the working directory 'srv' is invalid, it needs to be an absolute path"},
		{name: "bad stop signal", cfg: &container.Config{Cmd: []string{"sh"}, StopSignal: "SIGNOPE"}, err: "invalid signal: SIGNOPE"},
		{name: "arg with NUL", cfg: &container.Config{Cmd: []string{"echo", "a\x00b"}}, err: "contains a NUL byte"},
		{name: "default ulimit", opts: []Option{WithDefaultUlimits(&container.Ulimit{Name: "files", Soft: 1, Hard: 1})}, err: "invalid default ulimit: invalid ulimit type: files"},
		{name: "env with NUL", cfg: &container.Config{Cmd: []string{"sh"}, Env: []string{"A=b\x00c"}}, err: "invalid environment variable"},
		{name: "memory too small", hc: res(container.Resources{Memory: 4 << 20}), err: "minimum memory limit allowed is 6MB"},
		{name: "swap below memory", hc: res(container.Resources{Memory: 64 << 20, MemorySwap: 32 << 20}), err: "minimum memoryswap limit should be larger than memory limit, see usage"},
		{name: "swap without memory", hc: res(container.Resources{MemorySwap: 64 << 20}), err: "you should always set the Memory limit when using Memoryswap limit, see usage"},
		{name: "reservation too small", hc: res(container.Resources{MemoryReservation: 1 << 20}), err: "minimum memory reservation allowed is 6MB"},
		{name: "reservation above limit", hc: res(container.Resources{Memory: 64 << 20, MemoryReservation: 128 << 20}), err: "minimum memory limit can not be less than memory reservation limit, see usage"},
		{name: "swappiness", hc: res(container.Resources{MemorySwappiness: ptr(int64(101))}), err: "invalid value: 101, valid memory swappiness range is 0-100"},
		{name: "cpus and period", hc: res(container.Resources{NanoCPUs: 1e9, CPUPeriod: 100000}), err: "conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{name: "cpus and quota", hc: res(container.Resources{NanoCPUs: 1e9, CPUQuota: 100000}), err: "conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{name: "too many cpus", hc: res(container.Resources{NanoCPUs: 9e9}), err: "range of CPUs is from 0.01 to 8.00, as there are only 8 CPUs available"},
		{name: "negative shares", hc: res(container.Resources{CPUShares: -2}), err: "invalid CPU shares (-2): value must be a positive integer"},
		{name: "cfs period", hc: res(container.Resources{CPUPeriod: 500}), err: "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{name: "cfs quota", hc: res(container.Resources{CPUQuota: 500}), err: "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
		{name: "cpuset syntax", hc: res(container.Resources{CpusetCpus: "0-"}), err: "invalid value 0- for cpuset cpus"},
		{name: "cpuset unavailable", hc: res(container.Resources{CpusetCpus: "6-9"}), err: "requested CPUs are not available - requested 6-9, available: 0-7"},
		{name: "mems unavailable", hc: res(container.Resources{CpusetMems: "1"}), err: "requested memory nodes are not available - requested 1, available: 0"},
		{name: "blkio weight", hc: res(container.Resources{BlkioWeight: 5}), err: "range of blkio weight is from 10 to 1000"},
		{name: "blkio not a block device", hc: res(container.Resources{BlkioDeviceReadBps: []*blkiodev.ThrottleDevice{{Path: "/dev/fuse", Rate: 1}}}), err: "/dev/fuse is not a block device"},
		{name: "io maximum", hc: res(container.Resources{IOMaximumIOps: 10}), err: "invalid QoS settings"},
		{name: "ulimit name", hc: res(container.Resources{Ulimits: []*container.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}}}), err: "invalid ulimit type: bogus"},
		{name: "ulimit order", hc: res(container.Resources{Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 10, Hard: 5}}}), err: "ulimit soft limit must be less than or equal to hard limit: 10 > 5"},
		{name: "oom score", hc: &container.HostConfig{OomScoreAdj: 1001}, err: "invalid value 1001, range for oom score adj is [-1000, 1000]"},
		{name: "shm size", hc: &container.HostConfig{ShmSize: -1}, err: "SHM size can not be less than 0"},
		{name: "cap add", hc: &container.HostConfig{CapAdd: []string{"CAP_FOO"}}, err: `unknown capability: "CAP_FOO"`},
		{name: "ipc mode", hc: &container.HostConfig{IpcMode: "bogus"}, err: "invalid IPC mode: bogus"},
		{name: "pid mode", hc: &container.HostConfig{PidMode: "container:"}, err: "invalid PID mode: container:"},
		{name: "uts mode", hc: &container.HostConfig{UTSMode: "private"}, err: "invalid UTS mode: private"},
		{name: "cgroupns mode", hc: &container.HostConfig{CgroupnsMode: "shared"}, err: "invalid cgroup namespace mode: shared"},
		{name: "userns mode", hc: &container.HostConfig{UsernsMode: "private"}, err: "invalid USER mode: private"},
		{name: "join without a path", hc: &container.HostConfig{NetworkMode: "container:db"}, err: "the namespace path of the container to join is missing"},
		{name: "hostname with container network", cfg: &container.Config{Cmd: []string{"sh"}, Hostname: "h"}, hc: &container.HostConfig{NetworkMode: "container:db"}, err: "conflicting options: hostname and the network mode"},
		{name: "hostname with host uts", cfg: &container.Config{Cmd: []string{"sh"}, Hostname: "h"}, hc: &container.HostConfig{UTSMode: "host"}, err: "conflicting options: hostname and the UTS mode"},
		{name: "long hostname", cfg: &container.Config{Cmd: []string{"sh"}, Hostname: strings.Repeat("h", 65)}, err: "invalid hostname format"},
		{name: "duplicate mount", hc: &container.HostConfig{Binds: []string{"/srv/data:/data"}, Tmpfs: map[string]string{"/data": ""}}, err: "duplicate mount point: /data"},
		{name: "bind escape", hc: &container.HostConfig{Binds: []string{"/srv/data:/../etc"}}, err: "must not contain '..'"},
		{name: "mount without target", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/srv/data"}}}, err: `invalid mount config for type "bind": field Target must not be empty`},
		{name: "mount relative target", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/srv/data", Target: "data"}}}, err: `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`},
		{name: "mount missing source", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/nonexistent", Target: "/x"}}}, err: `invalid mount config for type "bind": bind source path does not exist: /nonexistent`},
		{name: "mount relative source", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "srv", Target: "/x"}}}, err: `invalid mount config for type "bind": invalid mount path: 'srv' mount path must be absolute`},
		{name: "mount bad propagation", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/srv/data", Target: "/x", BindOptions: &mount.BindOptions{Propagation: "sideways"}}}}, err: "invalid propagation mode: sideways"},
		{name: "mount ro conflict", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/srv/data", Target: "/x", ReadOnly: true, BindOptions: &mount.BindOptions{ReadOnlyNonRecursive: true, ReadOnlyForceRecursive: true}}}}, err: "mount options conflict: ReadOnlyNonRecursive && ReadOnlyForceRecursive"},
		{name: "tmpfs with source", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Source: "/srv", Target: "/x"}}}, err: `invalid mount config for type "tmpfs": field Source must not be specified`},
		{name: "tmpfs with bind options", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/x", BindOptions: &mount.BindOptions{}}}}, err: "field BindOptions must not be specified"},
		{name: "tmpfs size", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/x", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: -1}}}}, err: "invalid tmpfs size -1"},
		{name: "mount type", hc: &container.HostConfig{Mounts: []mount.Mount{{Type: "npipe", Source: "x", Target: "/x"}}}, err: `invalid mount config for type "npipe": mount type unknown`},
		{name: "tmpfs option", hc: &container.HostConfig{Tmpfs: map[string]string{"/x": "size=1m,bind"}}, err: `invalid tmpfs option "bind"`},
		{name: "tmpfs mode", hc: &container.HostConfig{Tmpfs: map[string]string{"/x": "mode=999"}}, err: `invalid tmpfs option "mode=999"`},
		{name: "tmpfs root", hc: &container.HostConfig{Tmpfs: map[string]string{"/": ""}}, err: "invalid specification: destination can't be '/'"},
		{name: "device mode", hc: res(container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/dev/fuse", CgroupPermissions: "rwx"}}}), err: "invalid device mode: rwx"},
		{name: "device missing", hc: res(container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/dev/nope"}}}), err: `error gathering device information while adding custom device "/dev/nope"`},
		{name: "device not a node", hc: res(container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/srv/data"}}}), err: "not a device node"},
		{name: "device cgroup rule", hc: res(container.Resources{DeviceCgroupRules: []string{"c 1:3 rwx"}}), err: "invalid device cgroup rule format: 'c 1:3 rwx'"},
		{name: "device requests", hc: res(container.Resources{DeviceRequests: []container.DeviceRequest{{Driver: "nvidia", Capabilities: [][]string{{"gpu"}}}}}), err: `could not select device driver "nvidia" with capabilities: [[gpu]]`},
		{name: "sysctl not namespaced", hc: &container.HostConfig{Sysctls: map[string]string{"kernel.panic": "1"}}, err: "sysctl 'kernel.panic' is not allowed"},
		{name: "sysctl net with host network", hc: &container.HostConfig{NetworkMode: "host", Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}}, err: "sysctl 'net.ipv4.ip_forward' is not allowed: the container shares a network namespace"},
		{name: "sysctl ipc with host ipc", hc: &container.HostConfig{IpcMode: "host", Sysctls: map[string]string{"kernel.shmmax": "1"}}, err: "sysctl 'kernel.shmmax' is not allowed: the container shares an IPC namespace"},
		{name: "sysctl path traversal", hc: &container.HostConfig{Sysctls: map[string]string{"net/../../kernel/panic": "1"}}, err: "is not allowed"},
		{name: "sysctl hostname", hc: &container.HostConfig{Sysctls: map[string]string{"kernel.hostname": "x"}}, err: "sysctl 'kernel.hostname' is not allowed"},
		{name: "security opt", hc: &container.HostConfig{SecurityOpt: []string{"bogus"}}, err: `invalid --security-opt 1: "bogus"`},
		{name: "security opt key", hc: &container.HostConfig{SecurityOpt: []string{"bogus=1"}}, err: `invalid --security-opt 2: "bogus=1"`},
		{name: "no-new-privileges value", hc: &container.HostConfig{SecurityOpt: []string{"no-new-privileges=maybe"}}, err: `invalid --security-opt 2: "no-new-privileges=maybe"`},
		{name: "seccomp json", hc: &container.HostConfig{SecurityOpt: []string{"seccomp=/etc/profile.json"}}, err: "decoding seccomp profile failed"},
		{name: "init without binary", hc: &container.HostConfig{Init: ptr(true)}, err: "no init binary configured"},
		{name: "masked path", hc: &container.HostConfig{MaskedPaths: []string{"proc/kcore"}}, err: "invalid masked or read-only path"},
		{name: "umask", hc: &container.HostConfig{Umask: ptr(uint32(0o1000))}, err: "invalid umask"},
		{name: "namespace path", hc: &container.HostConfig{}, in: func(in *Input) {
			in.Namespaces = map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "proc/1/ns/net"}
		}, err: "is not absolute"},
		{name: "container id", in: func(in *Input) { in.ID = "../../etc" }, err: "invalid container ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{ID: testID, Config: tt.cfg, HostConfig: tt.hc, Image: debianImage()}
			if tt.in != nil {
				tt.in(&in)
			}
			r, err := Generate(in, append([]Option{WithHost(testHost())}, tt.opts...)...)
			if err == nil {
				t.Fatalf("got a spec (args %v), want error %q", r.Spec.Process.Args, tt.err)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got error %q, want it to contain %q", err, tt.err)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("got error %v, want it to wrap errdefs.ErrInvalidArgument", err)
			}
		})
	}
}
