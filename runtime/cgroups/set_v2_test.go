package cgroups

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetV2Golden(t *testing.T) {
	const c = "/berth/ctr"
	tests := []struct {
		name string
		res  specs.LinuxResources
		want map[string]string
	}{
		{
			name: "memory: swap.max is swap minus limit",
			res: specs.LinuxResources{Memory: &specs.LinuxMemory{
				Limit: i64(256 << 20), Swap: i64(512 << 20), Reservation: i64(128 << 20),
				Kernel: i64(1), Swappiness: u64(10), DisableOOMKiller: boolp(true),
			}},
			want: map[string]string{
				"berth/ctr/memory.max":      "268435456",
				"berth/ctr/memory.swap.max": "268435456",
				"berth/ctr/memory.low":      "134217728",
			},
		},
		{
			name: "memory: unlimited",
			res:  specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}},
			want: map[string]string{"berth/ctr/memory.max": "max", "berth/ctr/memory.swap.max": "max"},
		},
		{
			name: "memory: no swap",
			res:  specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100 << 20), Swap: i64(100 << 20)}},
			want: map[string]string{"berth/ctr/memory.max": "104857600", "berth/ctr/memory.swap.max": "0"},
		},
		{
			name: "cpu: shares to weight, quota and period to cpu.max",
			res: specs.LinuxResources{CPU: &specs.LinuxCPU{
				Shares: u64(1024), Quota: i64(50000), Period: u64(100000), Burst: u64(1000), Idle: i64(0),
				Cpus: "1", Mems: "0",
			}},
			want: map[string]string{
				"berth/ctr/cpu.weight":    "100",
				"berth/ctr/cpu.max":       "50000 100000",
				"berth/ctr/cpu.max.burst": "1000",
				"berth/ctr/cpu.idle":      "0",
				"berth/ctr/cpuset.cpus":   "1",
				"berth/ctr/cpuset.mems":   "0",
			},
		},
		{
			name: "cpu: unlimited quota",
			res:  specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1), Period: u64(20000)}},
			want: map[string]string{"berth/ctr/cpu.max": "max 20000"},
		},
		{
			name: "cpu: quota alone keeps the period",
			res:  specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(30000)}},
			want: map[string]string{"berth/ctr/cpu.max": "30000"},
		},
		{
			name: "pids",
			res:  specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(42)}},
			want: map[string]string{"berth/ctr/pids.max": "42"},
		},
		{
			name: "io: weight converted for io.weight without bfq; throttles merged per device",
			res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
				Weight: u16(500), LeafWeight: u16(10),
				WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(1000)}},
				ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576},
				},
				ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 259, Minor: 0}, Rate: 0},
				},
				ThrottleReadIOPSDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 120},
				},
				ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
					{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 259, Minor: 0}, Rate: 30},
				},
			}},
			want: map[string]string{
				// io.weight got "4950" then "8:0 10000": the fake file keeps the last open.
				"berth/ctr/io.weight": "8:0 10000\n",
				"berth/ctr/io.max":    "8:0 rbps=1048576 riops=120\n259:0 wbps=max wiops=30\n",
			},
		},
		{
			name: "hugetlb and rsvd",
			res:  specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 20}}},
			want: map[string]string{"berth/ctr/hugetlb.2MB.max": "2097152", "berth/ctr/hugetlb.2MB.rsvd.max": "2097152"},
		},
		{
			name: "unified wins over converted values",
			res: specs.LinuxResources{
				CPU:     &specs.LinuxCPU{Shares: u64(2048)},
				Unified: map[string]string{"cpu.weight": "250", "memory.oom.group": "1"},
			},
			want: map[string]string{"berth/ctr/cpu.weight": "250", "berth/ctr/memory.oom.group": "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, V2)
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

func TestSetV2WeightWrites(t *testing.T) {
	// The previous test sees only the last write to io.weight; check the
	// default weight alone.
	f := newFake(t, V2)
	f.seed(t, "/c")
	m := f.manager(t, "/c")
	got, err := changes(t, f.root, func() error {
		return m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	diffFiles(t, got, map[string]string{"c/io.weight": "4950"})
}

func TestSetV2Devices(t *testing.T) {
	f := newFake(t, V2)
	f.seed(t, "/c")
	m := f.manager(t, "/c")
	var gotDir string
	var gotProg []insn
	m.attachDevices = func(dir string, prog []insn) error {
		gotDir, gotProg = dir, prog
		return nil
	}
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true)}}
	if err := m.Set(res); err != nil {
		t.Fatal(err)
	}
	if want := f.root + "/c"; gotDir != want {
		t.Errorf("got filter attached to %s, want %s", gotDir, want)
	}
	if len(gotProg) == 0 {
		t.Fatal("got no program")
	}
}

func TestSetV2Errors(t *testing.T) {
	tests := []struct {
		name string
		res  specs.LinuxResources
		want string
	}{
		{"realtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(100)}}, "realtime cpu limits"},
		{"network", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 1}}}}, "net_prio cgroup v1 controller"},
		{"swap without limit in force", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(100)}}, "read memory limit to convert swap"},
		{"unified path", specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, "not a cgroup file name"},
		{"unified unknown controller", specs.LinuxResources{Unified: map[string]string{"foo.max": "1"}}, "foo cgroup controller is not available"},
		{"controller not enabled", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"x": {}}}, "rdma cgroup controller is not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, V2)
			f.seed(t, "/x")
			if tt.name == "swap without limit in force" {
				// memory.max cannot be read: a fake leaf without it.
				mustRemove(t, f.root+"/x/memory.max")
			}
			if tt.name == "controller not enabled" {
				mustRemove(t, f.root+"/x/rdma.max")
			}
			m := f.manager(t, "/x")
			err := m.Set(&tt.res)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSetV2SwapOnlyUsesLimitInForce(t *testing.T) {
	f := newFake(t, V2)
	f.seed(t, "/x")
	write(t, f.root+"/x", "memory.max", "104857600\n")
	m := f.manager(t, "/x")
	got, err := changes(t, f.root, func() error {
		return m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(300 << 20)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	diffFiles(t, got, map[string]string{"x/memory.swap.max": "209715200"})
}

// On the hybrid layout of the development machines, hugetlb lives only in
// the unified hierarchy while everything else is v1.
func TestSetHybridGolden(t *testing.T) {
	f := newFake(t, Hybrid)
	f.seed(t, "/berth/ctr")
	m := f.manager(t, "/berth/ctr")
	res := &specs.LinuxResources{
		Memory:         &specs.LinuxMemory{Limit: i64(64 << 20)},
		Pids:           &specs.LinuxPids{Limit: i64(10)},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 20}},
		Unified:        map[string]string{"hugetlb.2MB.rsvd.max": "0"},
	}
	got, err := changes(t, f.root, func() error { return m.Set(res) })
	if err != nil {
		t.Fatal(err)
	}
	diffFiles(t, got, map[string]string{
		"memory/berth/ctr/memory.limit_in_bytes": "67108864",
		"pids/berth/ctr/pids.max":                "10",
		"unified/berth/ctr/hugetlb.2MB.max":      "2097152",
		"unified/berth/ctr/hugetlb.2MB.rsvd.max": "0",
	})
}
