package cgroups

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func dev(typ string, major, minor int64, access string, allow bool) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Type: typ, Access: access, Allow: allow}
	if major != -1 {
		d.Major = &major
	}
	if minor != -1 {
		d.Minor = &minor
	}
	return d
}

func TestSetV1Golden(t *testing.T) {
	const c = "/berth/ctr"
	tests := []struct {
		name string
		res  specs.LinuxResources
		want map[string]string // path below the root → content
	}{
		{
			name: "memory limit, swap and reservation; kernel limits ignored",
			res: specs.LinuxResources{Memory: &specs.LinuxMemory{
				Limit: i64(256 << 20), Swap: i64(512 << 20), Reservation: i64(128 << 20),
				Kernel: i64(64 << 20), KernelTCP: i64(1 << 20), Swappiness: u64(10),
				DisableOOMKiller: boolp(true), UseHierarchy: boolp(true),
			}},
			want: map[string]string{
				"memory/berth/ctr/memory.limit_in_bytes":       "268435456",
				"memory/berth/ctr/memory.memsw.limit_in_bytes": "536870912",
				"memory/berth/ctr/memory.soft_limit_in_bytes":  "134217728",
				"memory/berth/ctr/memory.swappiness":           "10",
				"memory/berth/ctr/memory.oom_control":          "1",
				"memory/berth/ctr/memory.use_hierarchy":        "1",
			},
		},
		{
			name: "unlimited memory makes memsw unlimited too, memsw first",
			res:  specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}},
			want: map[string]string{
				"memory/berth/ctr/memory.limit_in_bytes":       "-1",
				"memory/berth/ctr/memory.memsw.limit_in_bytes": "-1",
			},
		},
		{
			name: "zero means not set",
			res:  specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(0), Swap: i64(0)}, CPU: &specs.LinuxCPU{Shares: u64(0)}},
			want: map[string]string{},
		},
		{
			name: "cpu",
			res: specs.LinuxResources{CPU: &specs.LinuxCPU{
				Shares: u64(512), Quota: i64(50000), Period: u64(100000), Burst: u64(10000),
				RealtimeRuntime: i64(950), RealtimePeriod: u64(1000), Idle: i64(1), Cpus: "0-1", Mems: "0",
			}},
			want: map[string]string{
				"cpu/berth/ctr/cpu.shares":        "512",
				"cpu/berth/ctr/cpu.cfs_quota_us":  "50000",
				"cpu/berth/ctr/cpu.cfs_period_us": "100000",
				"cpu/berth/ctr/cpu.cfs_burst_us":  "10000",
				"cpu/berth/ctr/cpu.rt_runtime_us": "950",
				"cpu/berth/ctr/cpu.rt_period_us":  "1000",
				"cpu/berth/ctr/cpu.idle":          "1",
				"cpuset/berth/ctr/cpuset.cpus":    "0-1",
				"cpuset/berth/ctr/cpuset.mems":    "0",
			},
		},
		{
			name: "unlimited quota",
			res:  specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1)}},
			want: map[string]string{"cpu/berth/ctr/cpu.cfs_quota_us": "-1"},
		},
		{
			name: "pids: -1 is max, 0 is a limit",
			res:  specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}},
			want: map[string]string{"pids/berth/ctr/pids.max": "max"},
		},
		{
			name: "pids zero",
			res:  specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}},
			want: map[string]string{"pids/berth/ctr/pids.max": "0"},
		},
		{
			name: "blkio falls back to bfq, leaf weight ignored without cfq, one write per device",
			res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
				Weight: u16(500), LeafWeight: u16(300),
				WeightDevice: []specs.LinuxWeightDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(200)},
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: u16(100), LeafWeight: u16(50)},
				},
				ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20},
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 2 << 20},
				},
				ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 100},
				},
			}},
			want: map[string]string{
				"blkio/berth/ctr/blkio.bfq.weight":                 "500",
				"blkio/berth/ctr/blkio.bfq.weight_device":          "8:0 200\n8:16 100\n",
				"blkio/berth/ctr/blkio.throttle.read_bps_device":   "8:0 1048576\n8:16 2097152\n",
				"blkio/berth/ctr/blkio.throttle.write_iops_device": "8:0 100\n",
			},
		},
		{
			name: "hugetlb with reservation file when present",
			res: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{
				{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 1 << 30},
			}},
			want: map[string]string{
				"hugetlb/berth/ctr/hugetlb.2MB.limit_in_bytes":      "4194304",
				"hugetlb/berth/ctr/hugetlb.2MB.rsvd.limit_in_bytes": "4194304",
				"hugetlb/berth/ctr/hugetlb.1GB.limit_in_bytes":      "1073741824",
			},
		},
		{
			name: "network on co-mounted net_cls,net_prio",
			res: specs.LinuxResources{Network: &specs.LinuxNetwork{
				ClassID:    u32(0x100001),
				Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 2}},
			}},
			want: map[string]string{
				"net_cls,net_prio/berth/ctr/net_cls.classid":    "1048577",
				"net_cls,net_prio/berth/ctr/net_prio.ifpriomap": "eth0 5\nlo 2\n",
			},
		},
		{
			name: "rdma",
			res: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{
				"mlx5_1": {HcaHandles: u32(3)}, "mlx5_0": {HcaHandles: u32(2), HcaObjects: u32(100)},
			}},
			want: map[string]string{
				"rdma/berth/ctr/rdma.max": "mlx5_0 hca_handle=2 hca_object=100\nmlx5_1 hca_handle=3 hca_object=max\n",
			},
		},
		{
			name: "devices: deny all, then the allow list",
			res: specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				dev("a", -1, -1, "rwm", false),
				dev("c", 1, 3, "rwm", true),
				dev("c", 1, 5, "rwm", true),
				dev("c", 136, -1, "rwm", true),
				dev("c", 5, 2, "rwm", true),
				dev("c", 10, 200, "rwm", true),
			}},
			want: map[string]string{
				"devices/berth/ctr/devices.deny":  "a",
				"devices/berth/ctr/devices.allow": "c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\n",
			},
		},
		{
			name: "devices: privileged",
			res:  specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev("", -1, -1, "", false), dev("a", -1, -1, "rwm", true)}},
			want: map[string]string{"devices/berth/ctr/devices.allow": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, V1)
			f.seed(t, c)
			m := f.manager(t, c)
			got, err := changes(t, f.root, func() error { return m.Set(&tt.res) })
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			diffFiles(t, got, tt.want)
		})
	}
}

func TestSetV1Errors(t *testing.T) {
	tests := []struct {
		name   string
		layout string
		res    specs.LinuxResources
		want   string // substring of the error
	}{
		{"unified on v1", V1, specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "need cgroup v2"},
		{"swap below limit", V1, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(200), Swap: i64(100)}}, "lower than memory limit"},
		{"net_cls missing", Hybrid, specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(1)}}, "net_cls cgroup v1 controller"},
		{"bad page size", V1, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../2MB", Limit: 1}}}, "invalid hugepage size"},
		{"unsupported page size", V1, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "16GB", Limit: 1}}}, "hugepage size 16GB is not supported"},
		{"bad device type", V1, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, "invalid type"},
		{"bad access", V1, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rx"}}}, "invalid access"},
		{"v1 cannot carve", V1, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			dev("a", -1, -1, "rwm", false), dev("c", -1, -1, "rwm", true), dev("c", 1, 3, "w", false),
		}}, "cgroup v1 cannot express"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.layout)
			f.seed(t, "/x")
			m := f.manager(t, "/x")
			err := m.Set(&tt.res)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A value the kernel refuses names the file and the value.
func TestSetErrorNamesFileAndValue(t *testing.T) {
	f := newFake(t, V1)
	m := f.manager(t, "/x") // not seeded: no files
	err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(7)}})
	want := `set pids.max to "7" on ` + f.root + `/pids/x: no such file or directory`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
