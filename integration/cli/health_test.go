package cli_test

import (
	"strings"
	"testing"
)

// TestHealthOnFailure: berth's --health-* flags, and --health-on-failure
// (carried as the label berth.health-on-failure) stopping a container
// that becomes unhealthy.
func TestHealthOnFailure(t *testing.T) {
	d := containerDaemon(t)
	d.OK("run", "-d", "--name", "fine", "--health-cmd", "true", "--health-interval", "200ms", "bb", "sleep", "1000")
	d.OK("run", "-d", "--name", "sick", "--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "1",
		"--health-on-failure", "stop", "--stop-signal", "KILL", "bb", "sleep", "1000")
	waitFor(t, func() bool {
		return strings.HasSuffix(d.OK("ps", "--filter", "name=fine", "--format", "{{.Status}}"), "(healthy)\n")
	},
		"berth ps to show fine healthy")
	waitFor(t, func() bool { return d.OK("inspect", "-f", "{{.State.Status}}", "sick") == "exited\n" },
		"sick to be stopped when unhealthy")
	if got := d.OK("inspect", "-f", `{{index .Config.Labels "berth.health-on-failure"}} {{.State.Health.Status}}`, "sick"); got != "stop unhealthy\n" {
		t.Errorf("berth inspect sick: got %q, want the label and unhealthy", got)
	}
	if got := d.OK("run", "-d", "--name", "none", "--no-healthcheck", "bb", "sleep", "1000"); got == "" {
		t.Errorf("berth run --no-healthcheck: got no ID")
	}
	if got := d.OK("inspect", "-f", "{{json .State.Health}}", "none"); got != "null\n" {
		t.Errorf("berth inspect of a container without healthcheck: got health %q", got)
	}
	r := d.Berth("run", "--health-on-failure", "reboot", "bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, `"--health-on-failure"`) {
		t.Errorf("berth run --health-on-failure reboot: got %s, want exit 125", r)
	}
}
