package command

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/runtime/container"
)

// runUpdate changes a container's resources from flags, or from a
// LinuxResources JSON document (--resources FILE, "-" for stdin), as runc.
func runUpdate(a *app, args []string) error {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	resources := fs.String("resources", "", "JSON file of linux.resources (\"-\" reads stdin)")
	fs.StringVar(resources, "r", "", "JSON file of linux.resources")
	vals := map[string]*string{}
	for _, n := range []string{"blkio-weight", "cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period",
		"cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "memory", "memory-reservation", "memory-swap",
		"pids-limit", "kernel-memory", "kernel-memory-tcp", "l3-cache-schema", "mem-bw-schema"} {
		vals[n] = fs.String(n, "", "")
	}
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	id, err := oneID("update", pos)
	if err != nil {
		return err
	}
	c, err := container.Load(a.root, id)
	if err != nil {
		return err
	}
	var r specs.LinuxResources
	if *resources != "" {
		var data []byte
		if *resources == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(*resources)
		}
		if err != nil {
			return fmt.Errorf("update: read resources: %w", err)
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("update: decode resources: %w", err)
		}
	}
	if err := resourcesFromFlags(&r, vals); err != nil {
		return err
	}
	return c.Update(&r)
}

func resourcesFromFlags(r *specs.LinuxResources, v map[string]*string) error {
	set := func(name string) bool { return *v[name] != "" }
	for _, n := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if set(n) {
			return fmt.Errorf("update: --%s: Intel RDT is not supported", n)
		}
	}
	i64 := func(name string) (*int64, error) {
		n, err := parseSize(*v[name])
		if err != nil {
			return nil, fmt.Errorf("update: --%s %q: %w", name, *v[name], err)
		}
		return &n, nil
	}
	u64 := func(name string) (*uint64, error) {
		n, err := strconv.ParseUint(*v[name], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("update: --%s %q: %w", name, *v[name], err)
		}
		return &n, nil
	}
	var err error
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	if set("memory") {
		if mem().Limit, err = i64("memory"); err != nil {
			return err
		}
	}
	if set("memory-reservation") {
		if mem().Reservation, err = i64("memory-reservation"); err != nil {
			return err
		}
	}
	if set("memory-swap") {
		if mem().Swap, err = i64("memory-swap"); err != nil {
			return err
		}
	}
	if set("cpu-share") {
		if cpu().Shares, err = u64("cpu-share"); err != nil {
			return err
		}
	}
	if set("cpu-period") {
		if cpu().Period, err = u64("cpu-period"); err != nil {
			return err
		}
	}
	if set("cpu-quota") {
		if cpu().Quota, err = i64("cpu-quota"); err != nil {
			return err
		}
	}
	if set("cpu-rt-period") {
		if cpu().RealtimePeriod, err = u64("cpu-rt-period"); err != nil {
			return err
		}
	}
	if set("cpu-rt-runtime") {
		if cpu().RealtimeRuntime, err = i64("cpu-rt-runtime"); err != nil {
			return err
		}
	}
	if set("cpuset-cpus") {
		cpu().Cpus = *v["cpuset-cpus"]
	}
	if set("cpuset-mems") {
		cpu().Mems = *v["cpuset-mems"]
	}
	if set("pids-limit") {
		n, err := i64("pids-limit")
		if err != nil {
			return err
		}
		r.Pids = &specs.LinuxPids{Limit: n}
	}
	if set("blkio-weight") {
		n, err := strconv.ParseUint(*v["blkio-weight"], 10, 16)
		if err != nil {
			return fmt.Errorf("update: --blkio-weight %q: %w", *v["blkio-weight"], err)
		}
		w := uint16(n)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return nil
}

// parseSize reads a number with an optional k/m/g suffix (binary units),
// or -1 for unlimited.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return -1, nil
	}
	return n * mult, nil
}
