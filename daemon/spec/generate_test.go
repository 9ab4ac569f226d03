package spec

import (
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	rtseccomp "github.com/berth-dev/berth/runtime/seccomp"
	rtspec "github.com/berth-dev/berth/runtime/spec"
)

func ptr[T any](v T) *T { return &v }

// debianImage is a typical image configuration.
func debianImage() *ocispec.ImageConfig {
	return &ocispec.ImageConfig{
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"},
		Cmd:        []string{"bash"},
		WorkingDir: "/srv",
		Labels:     map[string]string{"org.opencontainers.image.title": "debian"},
	}
}

// TestGenerateGolden generates specs for representative requests and
// compares them with testdata/golden (go test -update rewrites them). Each
// spec must also pass berth-runtime's own validation, and its seccomp
// profile must compile.
func TestGenerateGolden(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		opts []Option
	}{
		{name: "defaults", in: Input{Config: &container.Config{}}},
		{name: "privileged", in: Input{
			Config:     &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{Privileged: true, Resources: container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/dev/kvm", PathInContainer: "/dev/vm", CgroupPermissions: "rw"}}}},
		}},
		{name: "cap-drop-all", in: Input{
			Config:     &container.Config{Cmd: []string{"nginx"}},
			HostConfig: &container.HostConfig{CapDrop: []string{"ALL"}, CapAdd: []string{"net_bind_service", "CAP_CHOWN", "setuid", "setgid"}},
		}},
		{name: "cap-add-all", in: Input{
			Config:     &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{CapAdd: []string{"all"}, CapDrop: []string{"sys_admin", "CAP_NET_ADMIN"}},
		}},
		{name: "user-tester", in: Input{
			Config:     &container.Config{User: "tester", Cmd: []string{"id"}, Tty: true, Env: []string{"LANG=en_US.UTF-8", "EMPTY=", "PATH"}},
			HostConfig: &container.HostConfig{GroupAdd: []string{"www-data", "4242"}, Umask: ptr(uint32(0o027)), ConsoleSize: [2]uint{40, 120}},
		}},
		{name: "mounts-readonly", in: Input{
			Config: &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{
				ReadonlyRootfs: true,
				Binds:          []string{"/srv/data:/data:ro", "/srv/new:/new", "/var/run/docker.sock:/var/run/docker.sock:rslave"},
				Mounts: []mount.Mount{
					{Type: mount.TypeBind, Source: "/srv/conf.json", Target: "/etc/app/conf.json", ReadOnly: true, BindOptions: &mount.BindOptions{ReadOnlyNonRecursive: true}},
					{Type: mount.TypeTmpfs, Target: "/cache", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 128 << 20, Mode: 0o1777, Options: [][]string{{"exec"}}}},
				},
				Tmpfs:   map[string]string{"/run": "rw,size=64m", "/tmp": ""},
				ShmSize: 256 << 20,
			},
			Files: Files{Hosts: "/var/lib/berth/containers/c/hosts", Hostname: "/var/lib/berth/containers/c/hostname", ResolvConf: "/var/lib/berth/containers/c/resolv.conf"},
		}},
		{name: "resources", in: Input{
			Config: &container.Config{Cmd: []string{"stress"}},
			HostConfig: &container.HostConfig{Resources: container.Resources{
				Memory: 512 << 20, MemoryReservation: 256 << 20, MemorySwappiness: ptr(int64(10)),
				NanoCPUs: 1500000000, CPUShares: 512, CpusetCpus: "0-3", CpusetMems: "0",
				PidsLimit: ptr(int64(100)), BlkioWeight: 300, OomKillDisable: ptr(true),
				BlkioDeviceReadBps:   []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1 << 20}},
				BlkioDeviceWriteIOps: []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 100}},
				BlkioWeightDevice:    []*blkiodev.WeightDevice{{Path: "/dev/sda", Weight: 200}},
				Ulimits:              []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}, {Name: "core", Soft: -1, Hard: -1}},
				CgroupParent:         "tenants/a",
				Devices:              []container.DeviceMapping{{PathOnHost: "/dev/fuse", CgroupPermissions: "rwm"}, {PathOnHost: "/dev/snd", PathInContainer: "/dev/sound", CgroupPermissions: "r"}},
				DeviceCgroupRules:    []string{"c 188:* rmw", "a"},
			}},
		}, opts: []Option{WithDefaultUlimits(&container.Ulimit{Name: "nproc", Soft: 512, Hard: 512}, &container.Ulimit{Name: "nofile", Soft: 10, Hard: 10})}},
		{name: "memory-swap-unlimited", in: Input{
			Config:     &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{Resources: container.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: ptr(int64(0)), CPUPeriod: 50000, CPUQuota: 25000}},
		}},
		{name: "host-modes", in: Input{
			Config:     &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{NetworkMode: "host", IpcMode: "host", PidMode: "host", UTSMode: "host", Init: ptr(true)},
		}, opts: []Option{WithInit("/usr/libexec/berth/berth-init", false)}},
		{name: "container-modes", in: Input{
			Config:     &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{NetworkMode: "container:db", IpcMode: "container:db", PidMode: "container:db", CgroupnsMode: "private"},
			Namespaces: map[specs.LinuxNamespaceType]string{
				specs.NetworkNamespace: "/proc/4242/ns/net", specs.IPCNamespace: "/proc/4242/ns/ipc", specs.PIDNamespace: "/proc/4242/ns/pid",
			},
			ShmPath: "/var/lib/berth/containers/db/shm",
		}},
		{name: "none-network-init-sysctls", in: Input{
			Config: &container.Config{Cmd: []string{"server"}, Hostname: "web", Domainname: "example.org", NetworkDisabled: false, StopSignal: "SIGQUIT", StopTimeout: ptr(30)},
			HostConfig: &container.HostConfig{
				NetworkMode: "none", IpcMode: "none", Init: ptr(true), OomScoreAdj: 500,
				Sysctls:     map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "68719476736", "net.ipv4.ping_group_range": "0 0"},
				SecurityOpt: []string{"no-new-privileges", "seccomp=unconfined", "apparmor=docker-default"},
				Annotations: map[string]string{"org.example.tier": "web"},
			},
		}, opts: []Option{WithInit("/usr/libexec/berth/berth-init", false), WithCgroupParent("/system/berth")}},
		{name: "seccomp-json", in: Input{
			Config: &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],` +
				`"syscalls":[{"names":["chmod","fchmodat"],"action":"SCMP_ACT_ERRNO","errnoRet":13},` +
				`{"name":"ptrace","action":"SCMP_ACT_KILL","excludes":{"caps":["CAP_SYS_PTRACE"]}},` +
				`{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_NE"}],"includes":{"arches":["amd64"],"minKernel":"4.2"}},` +
				`{"names":["reboot"],"action":"SCMP_ACT_LOG","includes":{"arches":["s390x"]}}]}`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost()
			tt.in.ID = testID
			tt.in.Image = debianImage()
			tt.in.Rootfs = writeRootfs(t, busyboxIDs())
			r, err := Generate(tt.in, append([]Option{WithHost(h)}, tt.opts...)...)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if err := rtspec.Validate(r.Spec); err != nil {
				t.Errorf("berth-runtime refuses the spec: %v", err)
			}
			if r.Spec.Linux.Seccomp != nil {
				if _, err := rtseccomp.Compile(r.Spec.Linux.Seccomp); err != nil {
					t.Errorf("seccomp profile does not compile: %v", err)
				}
			}
			golden(t, tt.name, toGolden(t, r, h))
		})
	}
}

// TestDefaultProfileGolden records DefaultProfile in Docker's JSON format
// and its expansion for a default container on amd64.
func TestDefaultProfileGolden(t *testing.T) {
	golden(t, "default-profile", DefaultProfile())
	sc, err := DefaultProfile().Spec(DefaultCapabilities(), testHost())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "default-profile-amd64", sc)
}
