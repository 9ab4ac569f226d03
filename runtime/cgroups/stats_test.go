package cgroups

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestStatsV1(t *testing.T) {
	f := newFake(t, V1)
	f.seed(t, "/c")
	files := map[string]string{
		"cpuacct/c/cpuacct.usage":                           "3000000\n",
		"cpuacct/c/cpuacct.usage_percpu":                    "1000000 2000000 \n",
		"cpuacct/c/cpuacct.usage_percpu_sys":                "400 600\n",
		"cpuacct/c/cpuacct.usage_percpu_user":               "600000 1400000\n",
		"cpuacct/c/cpuacct.stat":                            "user 7\nsystem 2\n", // no usage_user/_sys: ticks
		"cpu/c/cpu.stat":                                    "nr_periods 10\nnr_throttled 3\nthrottled_time 12345\nnr_bursts 0\nburst_time 0\n",
		"memory/c/memory.stat":                              "cache 4096\nrss 8192\ntotal_cache 4096\n",
		"memory/c/memory.usage_in_bytes":                    "12288\n",
		"memory/c/memory.max_usage_in_bytes":                "20480\n",
		"memory/c/memory.failcnt":                           "2\n",
		"memory/c/memory.limit_in_bytes":                    "9223372036854771712\n",
		"memory/c/memory.memsw.usage_in_bytes":              "12288\n",
		"memory/c/memory.memsw.limit_in_bytes":              "67108864\n",
		"memory/c/memory.kmem.limit_in_bytes":               "9223372036854771712\n",
		"memory/c/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
		"pids/c/pids.current":                               "4\n",
		"pids/c/pids.max":                                   "max\n",
		"blkio/c/blkio.bfq.io_service_bytes_recursive":      "",
		"blkio/c/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n",
		"blkio/c/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
		"hugetlb/c/hugetlb.2MB.usage_in_bytes":              "2097152\n",
		"hugetlb/c/hugetlb.2MB.max_usage_in_bytes":          "4194304\n",
		"hugetlb/c/hugetlb.2MB.failcnt":                     "1\n",
		"hugetlb/c/hugetlb.2MB.rsvd.usage_in_bytes":         "0\n",
	}
	for p, c := range files {
		write(t, f.root, p, c)
	}
	m := f.manager(t, "/c")
	got, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		CPU: CPUStats{
			Usage: CPUUsage{
				Total: 3000000, Percpu: []uint64{1000000, 2000000},
				PercpuKernel: []uint64{400, 600}, PercpuUser: []uint64{600000, 1400000},
				Kernel: 20000000, User: 70000000,
			},
			Throttling: Throttling{Periods: 10, ThrottledPeriods: 3, ThrottledTime: 12345},
		},
		Memory: MemoryStats{
			Cache:  4096,
			Usage:  MemoryEntry{Limit: 9223372036854771712, Usage: 12288, Max: 20480, Failcnt: 2},
			Swap:   MemoryEntry{Limit: 67108864, Usage: 12288},
			Kernel: MemoryEntry{Limit: 9223372036854771712},
			Raw:    map[string]uint64{"cache": 4096, "rss": 8192, "total_cache": 4096},
		},
		Pids: PidsStats{Current: 4},
		Blkio: BlkioStats{
			IoServiceBytesRecursive: []BlkioEntry{
				{8, 0, "Read", 4096}, {8, 0, "Write", 8192}, {8, 0, "Sync", 0},
				{8, 0, "Async", 12288}, {8, 0, "Discard", 0}, {8, 0, "Total", 12288},
			},
			IoServicedRecursive: []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 2}},
		},
		Hugetlb: map[string]HugetlbStats{"2MB": {Usage: 2097152, Max: 4194304, Failcnt: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("got %s\nwant %s", g, w)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 3 {
		t.Errorf("OOMKillCount: got %d, %v; want 3", n, err)
	}
}

func TestStatsV2(t *testing.T) {
	f := newFake(t, V2)
	f.seed(t, "/c")
	files := map[string]string{
		"c/cpu.stat":            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n",
		"c/memory.stat":         "anon 8192\nfile 4096\n",
		"c/memory.current":      "12288\n",
		"c/memory.max":          "104857600\n",
		"c/memory.peak":         "16384\n",
		"c/memory.swap.current": "100\n",
		"c/memory.swap.max":     "max\n",
		"c/memory.events":       "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n",
		"c/pids.current":        "2\n",
		"c/pids.max":            "64\n",
		"c/io.stat":             "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
		"c/hugetlb.2MB.current": "0\n",
		"c/hugetlb.2MB.events":  "max 2\n",
		"c/cpu.pressure":        "some avg10=1.50 avg60=0.25 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n",
	}
	for p, c := range files {
		write(t, f.root, p, c)
	}
	m := f.manager(t, "/c")
	got, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		CPU: CPUStats{
			Usage:      CPUUsage{Total: 1500000, User: 1000000, Kernel: 500000},
			Throttling: Throttling{Periods: 4, ThrottledPeriods: 1, ThrottledTime: 20000},
			PSI:        &PSIStats{Some: PSIData{1.5, 0.25, 0, 1234}, Full: PSIData{Total: 10}},
		},
		Memory: MemoryStats{
			Cache: 4096,
			Usage: MemoryEntry{Limit: 104857600, Usage: 12288, Max: 16384, Failcnt: 5},
			Swap:  MemoryEntry{Limit: math.MaxUint64, Usage: 12388},
			Raw:   map[string]uint64{"anon": 8192, "file": 4096},
		},
		Pids: PidsStats{Current: 2, Limit: 64},
		Blkio: BlkioStats{
			IoServiceBytesRecursive: []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 0}, {8, 0, "Discard", 0}},
			IoServicedRecursive:     []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 0}, {8, 0, "Discard", 0}},
		},
		Hugetlb: map[string]HugetlbStats{"2MB": {Failcnt: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("got %s\nwant %s", g, w)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 1 {
		t.Errorf("OOMKillCount: got %d, %v; want 1", n, err)
	}
}

func TestStatsMissingCgroup(t *testing.T) {
	f := newFake(t, V2)
	if _, err := f.manager(t, "/gone").Stats(); err == nil {
		t.Error("got no error for a cgroup that does not exist")
	}
}

// The JSON keys are those of runc's `events --stats` data.
func TestStatsJSON(t *testing.T) {
	s := Stats{
		CPU:     CPUStats{Usage: CPUUsage{Total: 1, Percpu: []uint64{1}}, Throttling: Throttling{1, 2, 3}},
		Memory:  MemoryStats{Cache: 1, Usage: MemoryEntry{Limit: 2, Usage: 3, Max: 4, Failcnt: 5}},
		Pids:    PidsStats{Current: 1, Limit: 2},
		Blkio:   BlkioStats{IoServiceBytesRecursive: []BlkioEntry{{8, 0, "Read", 1}}},
		Hugetlb: map[string]HugetlbStats{"2MB": {Usage: 1, Max: 2, Failcnt: 3}},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cpu":{"usage":{"total":1,"percpu":[1],"kernel":0,"user":0},"throttling":{"periods":1,"throttledPeriods":2,"throttledTime":3}},` +
		`"memory":{"cache":1,"usage":{"limit":2,"usage":3,"max":4,"failcnt":5},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},` +
		`"pids":{"current":1,"limit":2},` +
		`"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":1}]},` +
		`"hugetlb":{"2MB":{"usage":1,"max":2,"failcnt":3}}}`
	if got := string(b); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if strings.Contains(want, "throttled_") {
		t.Fatal("runc spells the throttling keys in camel case")
	}
}
