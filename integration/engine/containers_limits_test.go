package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResourceLimits: a memory and a pids limit show in the container's
// cgroup, from the host and from inside; without --pids-limit berth's
// default applies. The container has loopback only, up.
func TestResourceLimits(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	id := strings.TrimSpace(d.OK("run", "-d", "-m", "64m", "--pids-limit", "50", img, "sleep", "1000"))
	for file, want := range map[string]string{
		"memory/berth/" + id + "/memory.limit_in_bytes": "67108864",
		"pids/berth/" + id + "/pids.max":                "50",
	} {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", file))
		if got := strings.TrimSpace(string(b)); err != nil || got != want {
			t.Errorf("/sys/fs/cgroup/%s: got %q (%v), want %q", file, got, err, want)
		}
	}
	// Inside, the container sees its own cgroup's limits.
	inside := d.OK("run", "--rm", "-m", "32m", "--pids-limit", "20", img, "sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/class/net; cat /sys/class/net/lo/flags")
	if want := "33554432\n20\nlo\n0x9\n"; inside != want {
		t.Errorf("limits and network inside: got %q, want %q (the limits, lo only, lo up)", inside, want)
	}

	other := strings.TrimSpace(d.OK("run", "-d", img, "sleep", "1000"))
	if b, err := os.ReadFile("/sys/fs/cgroup/pids/berth/" + other + "/pids.max"); err != nil || strings.TrimSpace(string(b)) != "4096" {
		t.Errorf("default pids limit: got %q (%v), want 4096", b, err)
	}

	// docker stats shows the limits and the use.
	out := d.OK("stats", "--no-stream", "--format", "{{.ID}} {{.MemUsage}} {{.PIDs}} {{.NetIO}}", id)
	if f := strings.Fields(out); len(f) < 5 || f[0] != id[:12] || f[3] != "64MiB" || f[4] != "1" {
		t.Errorf("docker stats --no-stream: got %q, want the ID, usage / 64MiB, 1 process", out)
	}

	// docker update changes the limits of a running container and its
	// restart policy.
	d.OK("update", "-m", "128m", "--memory-swap", "256m", "--pids-limit", "70", "--restart", "on-failure:3", id)
	for file, want := range map[string]string{
		"memory/berth/" + id + "/memory.limit_in_bytes": "134217728",
		"pids/berth/" + id + "/pids.max":                "70",
	} {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", file))
		if got := strings.TrimSpace(string(b)); err != nil || got != want {
			t.Errorf("after update, /sys/fs/cgroup/%s: got %q (%v), want %q", file, got, err, want)
		}
	}
	if got := d.inspect(id, "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "134217728 on-failure:3" {
		t.Errorf("inspect after update: got %q", got)
	}
}
