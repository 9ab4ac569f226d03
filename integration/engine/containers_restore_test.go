package engine_test

import (
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
	d.OK("run", "-d", "--name", "short", img, "sh", "-c", "sleep 1; exit 5")
	d.OK("run", "-d", "--name", "always", "--restart", "always", img, "sh", "-c", "sleep 1; exit 9")
	pid := d.inspect("long", "{{.State.Pid}}")
	waitFor(t, "long to tick", 10*time.Second, func() bool { return strings.Contains(d.OK("logs", "long"), "tick 2\n") })

	syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.exited
	// The shims are not berthd's children: they outlive it.
	if len(d.shimPids()) != 3 {
		t.Errorf("after kill -9 of berthd: got %d shims, want 3", len(d.shimPids()))
	}
	time.Sleep(1500 * time.Millisecond) // short and always exit meanwhile
	d.Start()

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
