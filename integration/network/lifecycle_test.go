package network_test

import (
	"strconv"
	"testing"
)

// TestStartFailureAndRestarts: a start that fails after the container
// joined its networks (the command does not exist) leaves no endpoint;
// a container its restart policy starts again and again keeps exactly
// one endpoint per network, with an address each time.
func TestStartFailureAndRestarts(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "front")
	r := d.Docker("run", "--name", "bad", "--network", "front", "-p", "8600:7000", d.Image, "/nosuch")
	if r.Code != 127 {
		t.Errorf("docker run of a missing command: exit %d, want 127 (%s)", r.Code, r.Stderr)
	}
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after a failed start: %v", left)
	}

	d.OK("run", "-d", "--name", "flappy", "--network", "front", "--restart", "always", d.Image, "sh", "-c", "sleep 0.3; exit 3")
	waitFor(t, "three restarts", func() bool {
		n, _ := strconv.Atoi(d.OK("inspect", "-f", "{{.RestartCount}}", "flappy"))
		return n >= 3
	})
	waitFor(t, "flappy running", func() bool {
		return d.OK("inspect", "-f", "{{.State.Running}} {{.NetworkSettings.Networks.front.IPAddress}}", "flappy") != "false "
	})
	if n := len(d.veths()); n > 1 {
		t.Errorf("veths while flappy restarts: %v, want at most its one", d.veths())
	}
	if names := d.networkContainers("front"); len(names) > 1 {
		t.Errorf("endpoints on front while flappy restarts: %v, want at most its one", names)
	}
	d.OK("rm", "-f", "flappy", "bad")
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after rm -f: %v", left)
	}
}
