package engine_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRestartPolicies: --restart always restarts a container that exits
// until the user stops it; on-failure:N gives up after N restarts.
func TestRestartPolicies(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	d.OK("run", "-d", "--restart", "always", "--name", "again", img, "sh", "-c", "echo run; sleep 0.2; exit 1")
	waitFor(t, "two restarts", 20*time.Second, func() bool {
		n, _ := strconv.Atoi(d.inspect("again", "{{.RestartCount}}"))
		return n >= 2
	})
	if runs := strings.Count(d.OK("logs", "again"), "run\n"); runs < 3 {
		t.Errorf("logs of a restarted container: got %d runs, want at least 3", runs)
	}
	d.OK("stop", "-t", "1", "again")
	st := d.inspect("again", "{{.State.Status}} {{.State.Restarting}}")
	n1 := d.inspect("again", "{{.RestartCount}}")
	time.Sleep(700 * time.Millisecond)
	if n2 := d.inspect("again", "{{.RestartCount}}"); st != "exited false" || n1 != n2 {
		t.Errorf("after stop: got %q, restarts %s then %s; want exited and no more restarts", st, n1, n2)
	}

	d.OK("run", "-d", "--restart", "on-failure:2", "--name", "twice", img, "sh", "-c", "exit 3")
	waitFor(t, "on-failure to give up", 20*time.Second, func() bool {
		return d.inspect("twice", "{{.State.Status}} {{.RestartCount}}") == "exited 2"
	})
	time.Sleep(500 * time.Millisecond)
	if got := d.inspect("twice", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}"); got != "exited 2 3" {
		t.Errorf("on-failure:2: got %q, want \"exited 2 3\"", got)
	}
	d.OK("run", "-d", "--restart", "on-failure", "--name", "fine", img, "true")
	d.OK("wait", "fine")
	time.Sleep(300 * time.Millisecond)
	if got := d.inspect("fine", "{{.State.Status}} {{.RestartCount}}"); got != "exited 0" {
		t.Errorf("on-failure after exit 0: got %q, want \"exited 0\"", got)
	}
	if stderr := d.Fail("run", "--rm", "--restart", "always", img, "true"); !strings.Contains(stderr, "restart") {
		t.Errorf("--rm with --restart: got %q", stderr)
	}
}
