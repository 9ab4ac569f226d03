// Package cgroups manages the cgroup of an OCI container on cgroup v1, v2
// and hybrid hosts, writing cgroupfs directly (the cgroupfs driver; the
// systemd driver is not implemented).
//
// # Lifecycle
//
//	m, err := cgroups.New(cgroups.Options{Path: spec.Linux.CgroupsPath, ID: id})
//	m.Apply(initPid)            // mkdir in every hierarchy, move the pid in
//	m.Set(spec.Linux.Resources) // write the limits
//	state.CgroupPaths = m.Paths()
//	...
//	m, err = cgroups.Load(opts, state.CgroupPaths) // pause, update, events, ps, delete
//	m.Freeze(); m.Thaw(); m.Stats(); m.Pids()
//	m.Destroy()                 // after the last process is gone
//
// New reads mountinfo once and, for a relative cgroupsPath only, the
// runtime's own /proc/self/cgroup; Apply and Set then issue mkdir(2) and
// open/write/close on the interface files with no reads except where the
// kernel forces one (inheriting an empty v1 cpuset, the controllers a v2
// root offers). Every path comes from Options, so tests run against a fake
// tree in a temporary directory.
//
// # Layout detection
//
// The layout is read from mountinfo, keeping the cgroup and cgroup2 mounts at
// or below the cgroupfs root (a later mount on the same directory hides an
// earlier one). The super options of each cgroup (v1) mount name its
// controllers, so co-mounted controllers ("cpu,cpuacct") share one directory
// and named hierarchies ("name=systemd") are joined as well. Mode reports:
//
//   - "v1": v1 hierarchies only, one per controller or controller group.
//   - "v2": one cgroup2 mount, the unified hierarchy; its cgroup.controllers
//     lists the controllers.
//   - "hybrid": v1 controllers plus a cgroup2 mount (usually <root>/unified)
//     holding the controllers no v1 hierarchy took, possibly none.
//
// Each controller is used where it is mounted: as v1 files in its v1
// hierarchy, or else as v2 files in the unified one. On a hybrid host the
// container also gets a cgroup of the same path in the unified hierarchy,
// so limits of controllers bound there (such as hugetlb) apply, the v2
// freezer works if v1 has none, and pressure (PSI) stats can be read.
//
// # cgroupsPath
//
// An absolute path is the same in every hierarchy. A relative path, and the
// container id when the path is empty, go below the cgroup the runtime itself
// is in, per hierarchy (as runc does). The systemd form "slice:prefix:name"
// is translated to the directory systemd would create, e.g.
// "system.slice:docker:abc" → "/system.slice/docker-abc.scope".
//
// # v1 and v2 differences
//
// The OCI resources follow v1; on v2 they are converted:
//
//	OCI                   v1                               v2
//	memory.limit          memory.limit_in_bytes            memory.max
//	memory.swap           memory.memsw.limit_in_bytes      memory.swap.max = swap − limit
//	memory.reservation    memory.soft_limit_in_bytes       memory.low
//	cpu.shares            cpu.shares                       cpu.weight (SharesToWeight)
//	cpu.quota, period     cpu.cfs_quota_us, _period_us     cpu.max "QUOTA PERIOD"
//	cpu.burst, idle       cpu.cfs_burst_us, cpu.idle       cpu.max.burst, cpu.idle
//	cpu.realtime*         cpu.rt_runtime_us, _period_us    (error: no v2 equivalent)
//	cpu.cpus, mems        cpuset.cpus, cpuset.mems         same
//	pids.limit            pids.max                         pids.max
//	blockIO weights       blkio.[bfq.]weight[_device]      io.bfq.weight, else io.weight (converted)
//	blockIO throttles     blkio.throttle.*_device          io.max, one line per device
//	hugepageLimits        hugetlb.<size>.limit_in_bytes    hugetlb.<size>.max (+ .rsvd. when present)
//	network               net_cls.classid, net_prio.*      (error: v1 only)
//	devices               devices.deny/devices.allow       eBPF program attached to the cgroup
//	unified               (error: v2 only)                 the named files
//
// v1 has pitfalls the kernel leaves to the runtime: a new cpuset starts with
// no CPUs and no memory nodes, so Apply copies them down from the parent;
// memsw must stay at or above the memory limit at every step, so Set orders
// the two writes. v2 needs the controllers enabled in every ancestor's
// cgroup.subtree_control before a cgroup has their files, which Apply does.
//
// # Devices
//
// The OCI device list is an ordered rule list over "deny everything": for
// each access bit a request asks for (m, r, w), the last rule that matches
// the device and holds the bit decides, and the request is allowed when every
// bit is. The v1 devices controller is a default plus exceptions rather than
// a list, so Set rewrites the list into that form ("a" to devices.deny or
// devices.allow, then the exceptions) and refuses the few lists v1 cannot
// express. v2 has no devices files at all: Set compiles the list to a
// BPF_PROG_TYPE_CGROUP_DEVICE program, attaches it to the cgroup with
// BPF_F_ALLOW_MULTI and detaches the one it replaces.
//
// The freezer is v1 freezer.state, or v2 cgroup.freeze with the outcome in
// cgroup.events; both report THAWED, FREEZING or FROZEN.
package cgroups
