package engine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveRestore kills berthd with SIGKILL while one container runs and
// another exits, and starts it again: the first still runs with the same
// pid and its log goes on, the second shows its exit code; a container
// with --restart always that exited meanwhile runs again.
func TestLiveRestore(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	d.OK("run", "-d", "--name", "long", img, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
	// short and always end when the test plants /go in their rootfs
	// while berthd is down (not after a sleep: the machine may be slow).
	shortID := strings.TrimSpace(d.OK("run", "-d", "--name", "short", img, "sh", "-c", "until [ -e /go ]; do sleep 0.05; done; exit 5"))
	alwaysID := strings.TrimSpace(d.OK("run", "-d", "--name", "always", "--restart", "always", img, "sh", "-c", "until [ -e /go ]; do sleep 0.05; done; rm /go; exit 9"))
	lostID := strings.TrimSpace(d.OK("run", "-d", "--name", "lost", img, "sleep", "1000"))
	bootID := strings.TrimSpace(d.OK("run", "-d", "--name", "boot", "--restart", "always", img, "sleep", "1000"))
	bootPid := d.inspect("boot", "{{.State.Pid}}")
	pid := d.inspect("long", "{{.State.Pid}}")
	waitFor(t, "long to tick", 10*time.Second, func() bool { return strings.Contains(d.OK("logs", "long"), "tick 2\n") })

	d.Kill()
	// The shims are not berthd's children: they outlive it.
	if len(d.shimPids()) != 5 {
		t.Errorf("after kill -9 of berthd: got %d shims, want 5", len(d.shimPids()))
	}
	// While berthd is down, lost's shim is killed (it records nothing),
	// and boot goes as in a reboot: process, shim and shim state gone.
	d.killShim(lostID)
	d.killShim(bootID)
	n, _ := strconv.Atoi(bootPid)
	syscall.Kill(n, syscall.SIGKILL)
	os.RemoveAll(filepath.Join(d.Exec, "containers", bootID[:12]))
	for _, id := range []string{shortID, alwaysID} {
		if err := os.WriteFile(filepath.Join(d.Data, "containers", id, "rootfs", "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		exit := filepath.Join(d.Exec, "containers", id[:12], "exit.json")
		waitFor(t, "the container to exit while berthd is down", 10*time.Second, func() bool {
			_, err := os.Stat(exit)
			return err == nil
		})
	}
	d.Start()

	if got := d.inspect("lost", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" || d.inspect("lost", "{{.State.Error}}") == "" {
		t.Errorf("lost after restore: got %q, error %q; want exited 137 with an error", got, d.inspect("lost", "{{.State.Error}}"))
	}
	waitFor(t, "boot to be started again", 10*time.Second, func() bool {
		return d.inspect("boot", "{{.State.Status}}") == "running"
	})
	if got := d.inspect("boot", "{{.State.Pid}}"); got == bootPid {
		t.Errorf("boot after a simulated reboot: same pid %s, want a new run", got)
	}

	if got := d.inspect("long", "{{.State.Status}} {{.State.Pid}}"); got != "running "+pid {
		t.Errorf("long after restore: got %q, want \"running %s\"", got, pid)
	}
	if got := d.inspect("short", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 5" {
		t.Errorf("short after restore: got %q, want \"exited 5\"", got)
	}
	if st := d.OK("ps", "-a", "--filter", "name=short", "--format", "{{.Status}}"); !strings.HasPrefix(st, "Exited (5) ") {
		t.Errorf("docker ps of short: got %q, want Exited (5)", st)
	}
	waitFor(t, "always to run again", 10*time.Second, func() bool {
		n, _ := strconv.Atoi(d.inspect("always", "{{.RestartCount}}"))
		return n >= 1
	})
	// The log of long goes on, and logs -f follows it until it stops.
	before := strings.Count(d.OK("logs", "long"), "\n")
	time.Sleep(500 * time.Millisecond)
	if after := strings.Count(d.OK("logs", "long"), "\n"); after <= before {
		t.Errorf("logs of long after restore: %d lines, then %d; want more", before, after)
	}
	done := make(chan result, 1)
	go func() { done <- d.Docker("logs", "-f", "--tail", "1", "long") }()
	time.Sleep(300 * time.Millisecond)
	d.OK("stop", "-t", "1", "long")
	select {
	case r := <-done:
		if !strings.Contains(r.Stdout, "tick") {
			t.Errorf("logs -f of a restored container: got %q", r.Stdout)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("logs -f did not end when the restored container stopped")
	}
	if got := d.inspect("long", "{{.State.Status}}"); got != "exited" {
		t.Errorf("stop of a restored container: got %q", got)
	}
}

// killShim kills the shim of a container with SIGKILL and waits for it
// to go.
func (d *ctrDaemon) killShim(id string) {
	d.t.Helper()
	for _, pid := range d.shimPids() {
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(cmd), id) {
			syscall.Kill(pid, syscall.SIGKILL)
			waitFor(d.t, "the shim to die", 5*time.Second, func() bool {
				_, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/cmdline")
				st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
				return err != nil || strings.Contains(string(st), ") Z ")
			})
			return
		}
	}
	d.t.Fatalf("no shim of container %s", id)
}
