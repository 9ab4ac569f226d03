package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestVersionInfo: berth version and info show the client and the
// daemon, and say so plainly when there is no daemon.
func TestVersionInfo(t *testing.T) {
	d := newDaemon(t)
	out := d.OK("version")
	for _, want := range []string{"Client:\n Version:", " API version:       1.51", "Server: berth\n Engine:\n  Version:",
		"  API version:      1.51 (minimum version 1.24)", "unix://" + d.Sock} {
		if !strings.Contains(out, want) {
			t.Errorf("berth version lacks %q:\n%s", want, out)
		}
	}
	if got := strings.TrimSpace(d.OK("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}")); got != "1.51 1.51" {
		t.Errorf("berth version --format: got %q, want '1.51 1.51'", got)
	}
	out = d.OK("info")
	for _, want := range []string{"Server:\n Containers: 0\n  Running: 0", " Images: 0", " Storage Driver: overlayfs",
		" Logging Driver: json-file", " Live Restore Enabled: true", " Berth Root Dir: "} {
		if !strings.Contains(out, want) {
			t.Errorf("berth info lacks %q:\n%s", want, out)
		}
	}
	if got := strings.TrimSpace(d.OK("system", "info", "--format", "{{.Driver}} {{.ClientInfo.Host}}")); got != "overlayfs unix://"+d.Sock {
		t.Errorf("berth system info --format: got %q", got)
	}
	out = d.OK("system", "df")
	if l := lines(out); len(l) != 5 || !strings.HasPrefix(l[0], "TYPE") || !strings.HasPrefix(l[1], "Images ") {
		t.Errorf("berth system df: got\n%s", out)
	}
	if got := d.OK("--version"); !strings.HasPrefix(got, "berth version ") {
		t.Errorf("berth --version: got %q", got)
	}

	// No daemon: the client part, then the reason, and exit 1.
	gone := run(t, nil, []string{"BERTH_HOST=unix:///nonexistent/berth.sock"}, "version")
	if gone.Code != 1 || !strings.Contains(gone.Stdout, "Client:") ||
		!strings.Contains(gone.Stderr, "Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is berthd running?") {
		t.Errorf("berth version without a daemon: got %s", gone)
	}
	gone = run(t, nil, nil, "-H", "unix:///nonexistent/x.sock", "images")
	if gone.Code != 1 || !strings.Contains(gone.Stderr, "Cannot connect to the berth daemon at unix:///nonexistent/x.sock") {
		t.Errorf("berth -H ... images without a daemon: got %s", gone)
	}
	// DOCKER_HOST is read when BERTH_HOST is not set.
	if r := run(t, nil, []string{"DOCKER_HOST=unix://" + d.Sock}, "images", "-q"); r.Code != 0 {
		t.Errorf("berth images with DOCKER_HOST: got %s", r)
	}
}

// TestEvents: events between two times, filtered and formatted.
func TestEvents(t *testing.T) {
	d := newDaemon(t)
	tarball := rootfsTar(t, map[string]string{"hello.txt": "hi\n"})
	start := time.Now().Add(-time.Second).Unix()
	id := strings.TrimSpace(d.OK("import", tarball, "evt:v1"))
	d.OK("tag", "evt:v1", "evt:v2")
	d.OK("rmi", "evt:v2")
	until := time.Now().Add(time.Second).Unix()
	span := []string{"--since", itoa(start), "--until", itoa(until)}
	got := lines(d.OK(append([]string{"events", "--filter", "type=image", "--format", "{{.Type}} {{.Action}}"}, span...)...))
	want := []string{"image import", "image tag", "image untag"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("berth events --format: got %q, want %q", got, want)
	}
	got = lines(d.OK(append([]string{"system", "events", "--filter", "event=tag"}, span...)...))
	if len(got) != 1 || !strings.Contains(got[0], " image tag "+id) || !strings.Contains(got[0], "name=evt:v2") {
		t.Errorf("berth system events --filter event=tag: got %q, want one tag line of %s", got, id)
	}
	if out := d.OK(append([]string{"events", "--format", "json", "--filter", "event=untag"}, span...)...); !strings.Contains(out, `"Action":"untag"`) {
		t.Errorf("berth events --format json: got %q", out)
	}
}
