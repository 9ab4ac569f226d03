package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testimage"
)

// health is State.Health as docker inspect prints it.
type health struct {
	Status        string
	FailingStreak int
	Log           []struct {
		Start, End time.Time
		ExitCode   int
		Output     string
	}
}

// health reads a container's State.Health; nil when it has none.
func (d *ctrDaemon) health(ref string) *health {
	d.t.Helper()
	out := d.inspect(ref, "{{json .State.Health}}")
	if out == "null" {
		return nil
	}
	var h health
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		d.t.Fatalf("State.Health of %s: %v: %q", ref, err, out)
	}
	return &h
}

// waitHealth waits for a container's health status.
func (d *ctrDaemon) waitHealth(ref, status string) {
	d.t.Helper()
	waitFor(d.t, ref+" to be "+status, 20*time.Second, func() bool {
		h := d.health(ref)
		return h != nil && h.Status == status
	})
}

// healthConfig is Config.Healthcheck as docker inspect prints it.
type healthConfig struct {
	Test                                          []string
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
}

func (d *ctrDaemon) healthConfig(ref string) healthConfig {
	d.t.Helper()
	var h healthConfig
	if out := d.inspect(ref, "{{json .Config.Healthcheck}}"); json.Unmarshal([]byte(out), &h) != nil {
		d.t.Fatalf("Config.Healthcheck of %s: %q", ref, out)
	}
	return h
}

// imageWithHealthcheck is the test image with a HEALTHCHECK in its
// config, pushed beside it as :healthcheck.
func (d *ctrDaemon) imageWithHealthcheck(hc map[string]any) string {
	t := d.t
	t.Helper()
	base := busyboxImage(t)
	var cfg map[string]any
	if err := json.Unmarshal(base.ConfigBytes, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["config"].(map[string]any)["Healthcheck"] = hc
	cfgBytes, _ := json.Marshal(cfg)
	blobs := testimage.Blobs{}
	for dg, b := range base.Blobs {
		if dg != base.Manifest.Digest && dg != base.Config.Digest {
			blobs[dg] = b
		}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(base.ManifestBytes, &m); err != nil {
		t.Fatal(err)
	}
	m.Config.Digest, m.Config.Size = blobs.Add(cfgBytes), int64(len(cfgBytes))
	mBytes, _ := json.Marshal(m)
	desc := base.Manifest
	desc.Digest, desc.Size = blobs.Add(mBytes), int64(len(mBytes))
	ref := strings.Replace(d.Image, ":test", ":healthcheck", 1)
	testimage.Push(t, desc, blobs, ref, "")
	d.OK("pull", "-q", ref)
	return ref
}

// TestHealthchecks drives healthchecks with the docker CLI: healthy,
// unhealthy after a failing streak, a probe over its timeout (killed),
// the start period, the image's HEALTHCHECK and --no-healthcheck, the
// events, docker ps's status and health filter, pause, the three
// health-on-failure actions, and health after berthd is killed and
// started again.
func TestHealthchecks(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image
	// The probes' exec events soon push the first health events out of
	// the events kept for --since: follow them from the start.
	events := d.followEvents(`{"type":["container"],"event":["health_status","restart","stop","die"]}`)
	fast := []string{"--health-interval", "200ms", "--health-timeout", "5s"}
	run := func(name string, args ...string) {
		t.Helper()
		d.OK(append([]string{"run", "-d", "--name", name, "--stop-signal", "KILL"}, args...)...)
	}
	run("good", append(fast, "--health-cmd", "echo fine", img, "sleep", "1000")...)
	run("bad", append(fast, "--health-cmd", "echo failing; exit 1", "--health-retries", "2", img, "sleep", "1000")...)
	run("slow", "--health-cmd", "echo waiting; exec sleep 7", "--health-interval", "200ms", "--health-timeout", "300ms",
		"--health-retries", "1", img, "sleep", "1000")
	run("period", "--health-cmd", "exit 1", "--health-interval", "1s", "--health-start-interval", "100ms",
		"--health-start-period", "2s", "--health-retries", "1", img, "sleep", "1000")
	run("onrestart", append(fast, "--health-cmd", "exit 1", "--health-retries", "1", "--label", "berth.health-on-failure=restart", img, "sleep", "1000")...)
	run("onstop", append(fast, "--health-cmd", "exit 1", "--health-retries", "1", "--label", "berth.health-on-failure=stop", img, "sleep", "1000")...)
	run("onkill", append(fast, "--health-cmd", "exit 1", "--health-retries", "1", "--label", "berth.health-on-failure=kill", img, "sleep", "1000")...)
	run("onnone", append(fast, "--health-cmd", "exit 1", "--health-retries", "1", "--label", "berth.health-on-failure=none", img, "sleep", "1000")...)

	// A probe that succeeds: healthy, its output logged.
	d.waitHealth("good", "healthy")
	h := d.health("good")
	if last := h.Log[len(h.Log)-1]; last.ExitCode != 0 || last.Output != "fine\n" || h.FailingStreak != 0 || last.End.Before(last.Start) {
		t.Errorf("good: got streak %d, last result %+v; want exit 0 with \"fine\\n\"", h.FailingStreak, last)
	}
	if st := d.OK("ps", "--filter", "name=good", "--format", "{{.Status}}"); !strings.HasPrefix(st, "Up ") || !strings.HasSuffix(st, " (healthy)\n") {
		t.Errorf("docker ps status of a healthy container: got %q", st)
	}

	// A failing probe: unhealthy once the streak reaches the retries.
	d.waitHealth("bad", "unhealthy")
	h = d.health("bad")
	if last := h.Log[len(h.Log)-1]; h.FailingStreak < 2 || last.ExitCode != 1 || last.Output != "failing\n" {
		t.Errorf("bad: got streak %d, last result %+v; want at least 2 and exit 1 with \"failing\\n\"", h.FailingStreak, last)
	}
	if st := d.OK("ps", "--filter", "name=bad", "--format", "{{.Status}}"); !strings.HasSuffix(st, " (unhealthy)\n") {
		t.Errorf("docker ps status of an unhealthy container: got %q", st)
	}

	// A probe over its timeout is a failure with Docker's message, and it
	// is killed: the probes' sleeps do not pile up in the container.
	d.waitHealth("slow", "unhealthy")
	h = d.health("slow")
	if last := h.Log[0]; last.ExitCode != -1 || last.Output != "Health check exceeded timeout (300ms): waiting\n" {
		t.Errorf("slow: got %+v; want exit -1 with the timeout message and the output", last)
	}
	waitFor(t, "three timed-out probes", 20*time.Second, func() bool { return len(d.health("slow").Log) >= 3 })
	if n := strings.Count(d.OK("top", "slow"), "sleep 7"); n > 1 {
		t.Errorf("slow: %d probes still run after their timeout, want at most the current one", n)
	}

	// Failures within the start period do not count; after it they do.
	d.waitHealth("period", "unhealthy")
	started, _ := time.Parse(time.RFC3339Nano, d.inspect("period", "{{.State.StartedAt}}"))
	h = d.health("period")
	counted := 0
	for _, r := range h.Log {
		if r.Start.Sub(started) >= 2*time.Second {
			counted++
		}
	}
	// With failures of the start period still in the log, the streak is
	// exactly the failures after it.
	if counted == 0 || counted < len(h.Log) && h.FailingStreak != counted || h.FailingStreak < counted {
		t.Errorf("period: got streak %d, want the %d failures after the start period (log %+v)", h.FailingStreak, counted, h.Log)
	}

	// The health filter of docker ps.
	if got := strings.Fields(d.OK("ps", "--filter", "health=healthy", "--format", "{{.Names}}")); strings.Join(got, " ") != "good" {
		t.Errorf("ps --filter health=healthy: got %q, want good", got)
	}
	unhealthy := strings.Fields(d.OK("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"))
	for _, want := range []string{"bad", "slow", "period", "onnone"} {
		if !contains(unhealthy, want) {
			t.Errorf("ps --filter health=unhealthy: got %q, want %s among them", unhealthy, want)
		}
	}
	if stderr := d.Fail("ps", "--filter", "health=bogus"); !strings.Contains(stderr, "Unrecognised filter value for health: bogus") {
		t.Errorf("ps --filter health=bogus: got %q", stderr)
	}

	// health-on-failure: restart counts a restart, stop and kill end the
	// container.
	waitFor(t, "onrestart to be restarted", 20*time.Second, func() bool {
		n, _ := strconv.Atoi(d.inspect("onrestart", "{{.RestartCount}}"))
		return n >= 1
	})
	waitFor(t, "onstop to stop", 20*time.Second, func() bool { return d.inspect("onstop", "{{.State.Status}}") == "exited" })
	waitFor(t, "onkill to be killed", 20*time.Second, func() bool { return d.inspect("onkill", "{{.State.Status}}") == "exited" })
	if got := d.inspect("onkill", "{{.State.ExitCode}}"); got != "137" {
		t.Errorf("onkill: got exit code %s, want 137", got)
	}
	if got := d.inspect("onnone", "{{.State.Status}} {{.RestartCount}}"); got != "running 0" {
		t.Errorf("onnone: got %q, want it left running", got)
	}
	if h := d.health("onstop"); h == nil || h.Status != "unhealthy" {
		t.Errorf("onstop: inspect after the stop: got health %+v, want the last status kept", h)
	}
	if stderr := d.Fail("run", "-d", "--label", "berth.health-on-failure=reboot", img, "true"); !strings.Contains(stderr, `invalid value "reboot" for label berth.health-on-failure`) {
		t.Errorf("invalid health-on-failure: got %q", stderr)
	}

	// Pausing stops the probes; unpausing resumes them.
	d.OK("pause", "good")
	paused := time.Now()
	time.Sleep(600 * time.Millisecond)
	resumed := time.Now()
	d.OK("unpause", "good")
	waitFor(t, "good to be probed again", 20*time.Second, func() bool {
		h := d.health("good")
		return h.Log[len(h.Log)-1].Start.After(resumed)
	})
	for _, r := range d.health("good").Log {
		if r.Start.After(paused) && r.Start.Before(resumed) {
			t.Errorf("good: a probe ran while it was paused: %+v", r)
		}
	}

	d.checkEvents(events())
	d.checkImageHealthcheck()

	// berthd killed and started again: the monitors start again.
	before := len(d.health("good").Log)
	d.Kill()
	restarted := time.Now()
	d.Start()
	waitFor(t, "good to be probed after the restart", 20*time.Second, func() bool {
		h := d.health("good")
		return h.Status == "healthy" && h.Log[len(h.Log)-1].Start.After(restarted)
	})
	if n := len(d.health("good").Log); n < before {
		t.Errorf("good after the restart: %d results logged, before %d; want the log kept", n, before)
	}
	waitFor(t, "bad to be probed after the restart", 20*time.Second, func() bool {
		h := d.health("bad")
		return h.Status == "unhealthy" && h.Log[len(h.Log)-1].Start.After(restarted)
	})
}

// followEvents streams GET /events with filters until the returned
// function is called; it returns "<action> <name>" of each event.
func (d *ctrDaemon) followEvents(filters string) func() []string {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://berthd/events?filters="+url.QueryEscape(filters), nil)
	resp, err := d.Client.Do(req)
	if err != nil {
		cancel()
		d.t.Fatalf("GET /events: %v", err)
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		dec := json.NewDecoder(resp.Body)
		for {
			var m struct {
				Action string
				Actor  struct{ Attributes map[string]string }
			}
			if dec.Decode(&m) != nil {
				return
			}
			mu.Lock()
			got = append(got, m.Action+" "+m.Actor.Attributes["name"])
			mu.Unlock()
		}
	}()
	d.t.Cleanup(func() { cancel(); resp.Body.Close(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// checkEvents: the health_status events, and what health-on-failure did.
func (d *ctrDaemon) checkEvents(got []string) {
	t := d.t
	t.Helper()
	out := strings.Join(got, "\n")
	for _, want := range []string{"health_status: healthy good", "health_status: unhealthy bad", "health_status: unhealthy onstop",
		"restart onrestart", "stop onstop", "die onkill"} {
		if !contains(got, want) {
			t.Errorf("events: no %q in\n%s", want, out)
		}
	}
	if contains(got, "health_status: healthy bad") || contains(got, "health_status: unhealthy good") {
		t.Errorf("events: a status good or bad never had:\n%s", out)
	}
	// The probes are execs, with their events, as dockerd's.
	ev := d.OK("events", "--since", fmt.Sprint(time.Now().Add(-5*time.Second).Unix()), "--until", fmt.Sprint(time.Now().Unix()),
		"--filter", "container=good", "--format", "{{.Action}}")
	if !strings.Contains(ev, "exec_start: /bin/sh -c echo fine") {
		t.Errorf("docker events: no exec_start of good's probe in\n%s", ev)
	}
}

// checkImageHealthcheck: an image's HEALTHCHECK applies, the request's
// fields override it one by one, and --no-healthcheck disables it; the API
// checks the durations and ignores StartInterval before 1.44.
func (d *ctrDaemon) checkImageHealthcheck() {
	t := d.t
	t.Helper()
	ref := d.imageWithHealthcheck(map[string]any{"Test": []string{"CMD", "true"}, "Interval": 200 * time.Millisecond, "Retries": 4})
	d.OK("run", "-d", "--name", "imagecheck", ref, "sleep", "1000")
	d.OK("run", "-d", "--name", "override", "--health-retries", "7", "--health-timeout", "2s", ref, "sleep", "1000")
	d.OK("run", "-d", "--name", "nocheck", "--no-healthcheck", ref, "sleep", "1000")
	d.waitHealth("imagecheck", "healthy")
	want := healthConfig{Test: []string{"CMD", "true"}, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, Retries: 7}
	if got := d.healthConfig("override"); !reflect.DeepEqual(got, want) {
		t.Errorf("override: got healthcheck %+v, want %+v (the image's, retries and timeout replaced)", got, want)
	}
	d.waitHealth("override", "healthy")
	time.Sleep(500 * time.Millisecond)
	if h := d.health("nocheck"); h != nil {
		t.Errorf("--no-healthcheck: got health %+v, want none", h)
	}
	if st := d.OK("ps", "--filter", "name=nocheck", "--format", "{{.Status}}"); strings.Contains(st, "(") {
		t.Errorf("docker ps of a container without healthcheck: got %q", st)
	}
	if got := strings.Fields(d.OK("ps", "--filter", "health=none", "--format", "{{.Names}}")); !contains(got, "nocheck") || contains(got, "imagecheck") {
		t.Errorf("ps --filter health=none: got %q, want nocheck and not imagecheck", got)
	}

	body := `{"Image":"` + d.Image + `","Cmd":["true"],"Healthcheck":{"Test":["CMD","true"],"Interval":500000}}`
	if code, _, out := d.API("POST", "/v1.51/containers/create", strings.NewReader(body), "Content-Type", "application/json"); code != 400 || !strings.Contains(out, "Interval in Healthcheck cannot be less than 1ms") {
		t.Errorf("create with a 0.5ms interval: got %d %s", code, out)
	}
	body = `{"Image":"` + d.Image + `","Cmd":["true"],"Healthcheck":{"Test":["CMD","true"],"StartInterval":2000000000}}`
	for _, tc := range []struct {
		version string
		want    time.Duration
	}{{"1.43", 0}, {"1.44", 2 * time.Second}} {
		code, _, out := d.API("POST", "/v"+tc.version+"/containers/create", strings.NewReader(body), "Content-Type", "application/json")
		var resp struct{ ID string }
		if json.Unmarshal([]byte(out), &resp); code != 201 {
			t.Fatalf("create for API %s: got %d %s", tc.version, code, out)
		}
		if got := d.healthConfig(resp.ID).StartInterval; got != tc.want {
			t.Errorf("StartInterval for API %s: got %v, want %v", tc.version, got, tc.want)
		}
	}
}
