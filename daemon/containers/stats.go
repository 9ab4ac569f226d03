package containers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/internal/sysinfo"
)

// runcStats is the "data" of `<runtime> events --stats`, in runc's shape
// (berth-runtime's is the same), of which stats reads what docker stats
// shows.
type runcStats struct {
	CPU struct {
		Usage struct {
			Total  uint64   `json:"total"`
			Percpu []uint64 `json:"percpu"`
			Kernel uint64   `json:"kernel"`
			User   uint64   `json:"user"`
		} `json:"usage"`
		Throttling struct {
			Periods          uint64 `json:"periods"`
			ThrottledPeriods uint64 `json:"throttledPeriods"`
			ThrottledTime    uint64 `json:"throttledTime"`
		} `json:"throttling"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Limit   uint64 `json:"limit"`
			Usage   uint64 `json:"usage"`
			Max     uint64 `json:"max"`
			Failcnt uint64 `json:"failcnt"`
		} `json:"usage"`
		Raw map[string]uint64 `json:"raw"`
	} `json:"memory"`
	Pids struct {
		Current uint64 `json:"current"`
		Limit   uint64 `json:"limit"`
	} `json:"pids"`
	Blkio struct {
		IoServiceBytesRecursive []container.BlkioStatEntry `json:"ioServiceBytesRecursive"`
		IoServicedRecursive     []container.BlkioStatEntry `json:"ioServicedRecursive"`
	} `json:"blkio"`
}

// maxStatsOutput bounds what is read of the runtime's stats.
const maxStatsOutput = 4 << 20

// Stats samples a container's resource use as GET
// /containers/{id}/stats: with stream, one sample a second until ctx
// ends or the container is removed; else one, after a second sample
// (for the CPU delta) unless oneShot. A container that does not run
// gives samples of zeros, as dockerd's.
func (s *Service) Stats(ctx context.Context, ref string, stream, oneShot bool, send func(container.StatsResponse) error) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	prev, err := s.sample(ctx, c)
	if err != nil {
		return err
	}
	if !stream && oneShot {
		return send(prev)
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.removed:
			return nil
		case <-t.C:
		}
		cur, err := s.sample(ctx, c)
		if err != nil {
			return err
		}
		cur.PreCPUStats, cur.PreRead = prev.CPUStats, prev.Read
		if err := send(cur); err != nil || !stream {
			return err
		}
		prev = cur
	}
}

// sample reads one sample of a container's use; zeros when it does not
// run.
func (s *Service) sample(ctx context.Context, c *ctr) (container.StatsResponse, error) {
	c.mu.Lock()
	resp := container.StatsResponse{ID: c.id, Name: "/" + c.rec.Name, OSType: "linux", Read: time.Now().UTC()}
	running, runtimeName, pid := c.sh != nil, c.rec.HostConfig.Runtime, c.rec.State.Pid
	host := c.rec.HostConfig.NetworkMode.IsHost()
	c.mu.Unlock()
	if !running {
		return resp, nil
	}
	path, err := s.o.Runtime(runtimeName)
	if err != nil {
		return resp, err
	}
	cmd := exec.CommandContext(ctx, path, "--root", s.runtimeRoot(), "events", "--stats", c.id)
	out, err := cmd.Output()
	if err != nil {
		if !c.state().running() {
			return resp, nil // it exited meanwhile
		}
		return resp, fmt.Errorf("stats of container %s: %w", c.id, err)
	}
	if len(out) > maxStatsOutput {
		return resp, fmt.Errorf("stats of container %s: %d bytes from the runtime: %w", c.id, len(out), errdefs.ErrDataLoss)
	}
	var ev struct {
		Data runcStats `json:"data"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		return resp, fmt.Errorf("stats of container %s: decode: %w", c.id, err)
	}
	fillStats(&resp, &ev.Data)
	// Without a limit the cgroup says "page counter max"; docker shows
	// the host's memory, the real bound.
	if total := uint64(sysinfo.MemTotal()); total > 0 && (resp.MemoryStats.Limit == 0 || resp.MemoryStats.Limit > total) {
		resp.MemoryStats.Limit = total
	}
	resp.CPUStats.SystemUsage = systemCPUUsage()
	resp.CPUStats.OnlineCPUs = uint32(runtime.NumCPU())
	if !host {
		resp.Networks = netStats(pid)
	}
	return resp, nil
}

// fillStats converts runc's stats to the Engine API's.
func fillStats(r *container.StatsResponse, st *runcStats) {
	cpu := &r.CPUStats
	cpu.CPUUsage = container.CPUUsage{TotalUsage: st.CPU.Usage.Total, PercpuUsage: st.CPU.Usage.Percpu,
		UsageInKernelmode: st.CPU.Usage.Kernel, UsageInUsermode: st.CPU.Usage.User}
	cpu.ThrottlingData = container.ThrottlingData{Periods: st.CPU.Throttling.Periods,
		ThrottledPeriods: st.CPU.Throttling.ThrottledPeriods, ThrottledTime: st.CPU.Throttling.ThrottledTime}
	m := st.Memory
	r.MemoryStats = container.MemoryStats{Usage: m.Usage.Usage, MaxUsage: m.Usage.Max, Failcnt: m.Usage.Failcnt,
		Limit: m.Usage.Limit, Stats: m.Raw}
	r.PidsStats = container.PidsStats{Current: st.Pids.Current, Limit: st.Pids.Limit}
	r.BlkioStats = container.BlkioStats{IoServiceBytesRecursive: st.Blkio.IoServiceBytesRecursive,
		IoServicedRecursive: st.Blkio.IoServicedRecursive}
}

// systemCPUUsage is the host's CPU time in nanoseconds (the "cpu" line of
// /proc/stat, in clock ticks of 1/100 s).
func systemCPUUsage() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[0] != "cpu" {
			continue
		}
		var ticks uint64
		for _, v := range fields[1:8] {
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
		return ticks * (uint64(time.Second) / 100)
	}
	return 0
}

// netStats reads the interfaces of a process's network namespace, but
// its loopback (dockerd reports the container's network endpoints).
func netStats(pid int) map[string]container.NetworkStats {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return nil
	}
	return parseNetDev(string(data))
}

// parseNetDev reads /proc/net/dev: after two header lines, "name:" and 16
// counters, of which Docker shows bytes, packets, errors and drops.
func parseNetDev(data string) map[string]container.NetworkStats {
	out := map[string]container.NetworkStats{}
	lines := strings.Split(data, "\n")
	for _, l := range lines[min(2, len(lines)):] {
		name, rest, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		f := strings.Fields(rest)
		if !ok || name == "" || name == "lo" || len(f) < 16 {
			continue
		}
		n := make([]uint64, 16)
		for i := range n {
			n[i], _ = strconv.ParseUint(f[i], 10, 64)
		}
		out[name] = container.NetworkStats{RxBytes: n[0], RxPackets: n[1], RxErrors: n[2], RxDropped: n[3],
			TxBytes: n[8], TxPackets: n[9], TxErrors: n[10], TxDropped: n[11]}
	}
	return out
}
