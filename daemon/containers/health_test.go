package containers

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

func TestCheckHealth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h      *container.HealthConfig
		labels map[string]string
		want   string // "" for none
	}{
		{"none", nil, nil, ""},
		{"zeros inherit", &container.HealthConfig{Test: []string{"CMD", "true"}}, nil, ""},
		{"minimum", &container.HealthConfig{Interval: time.Millisecond, Timeout: time.Millisecond, StartPeriod: time.Millisecond, StartInterval: time.Millisecond}, nil, ""},
		{"interval", &container.HealthConfig{Interval: 500 * time.Microsecond}, nil, "Interval in Healthcheck cannot be less than 1ms"},
		{"negative interval", &container.HealthConfig{Interval: -time.Second}, nil, "Interval in Healthcheck cannot be less than 1ms"},
		{"timeout", &container.HealthConfig{Timeout: -1}, nil, "Timeout in Healthcheck cannot be less than 1ms"},
		{"retries", &container.HealthConfig{Retries: -1}, nil, "Retries in Healthcheck cannot be negative"},
		{"start period", &container.HealthConfig{StartPeriod: 10}, nil, "StartPeriod in Healthcheck cannot be less than 1ms"},
		{"start interval", &container.HealthConfig{StartInterval: 10}, nil, "StartInterval in Healthcheck cannot be less than 1ms"},
		{"on-failure restart", nil, map[string]string{labelHealthOnFailure: "restart"}, ""},
		{"on-failure none", nil, map[string]string{labelHealthOnFailure: "none"}, ""},
		{"on-failure bad", nil, map[string]string{labelHealthOnFailure: "reboot"}, `invalid value "reboot" for label berth.health-on-failure`},
		{"on-failure empty", nil, map[string]string{labelHealthOnFailure: ""}, `invalid value "" for label`},
	} {
		err := checkHealth(&container.Config{Healthcheck: tc.h, Labels: tc.labels})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		case tc.want != "" && !errdefs.IsInvalidArgument(err):
			t.Errorf("%s: got error class of %v, want invalid argument", tc.name, err)
		}
	}
}

func TestMergeHealthcheck(t *testing.T) {
	img := &container.HealthConfig{Test: []string{"CMD-SHELL", "check"}, Interval: time.Second, Timeout: 2 * time.Second,
		StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 5}
	for _, tc := range []struct {
		name     string
		req, img *container.HealthConfig
		want     *container.HealthConfig
	}{
		{"neither", nil, nil, nil},
		{"image only", nil, img, img},
		{"request only", &container.HealthConfig{Test: []string{"CMD", "x"}}, nil, &container.HealthConfig{Test: []string{"CMD", "x"}}},
		{"NONE keeps the image's timing", &container.HealthConfig{Test: []string{"NONE"}}, img,
			&container.HealthConfig{Test: []string{"NONE"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 5}},
		{"per field", &container.HealthConfig{Interval: 7 * time.Second, Retries: 1}, img,
			&container.HealthConfig{Test: []string{"CMD-SHELL", "check"}, Interval: 7 * time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 1}},
	} {
		var before container.HealthConfig
		if tc.req != nil {
			before = *tc.req
		}
		got := mergeHealthcheck(tc.req, tc.img)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		if tc.req != nil && !reflect.DeepEqual(*tc.req, before) {
			t.Errorf("%s: the request was modified: %+v", tc.name, *tc.req)
		}
	}
	if got := mergeHealthcheck(nil, img); got == img {
		t.Errorf("merge returned the image's healthcheck itself, want a copy")
	}
}

func TestProbeCommand(t *testing.T) {
	for _, tc := range []struct {
		test  []string
		shell []string
		want  []string
		ok    bool
	}{
		{nil, nil, nil, false},
		{[]string{"NONE"}, nil, nil, false},
		{[]string{"BOGUS", "x"}, nil, nil, false},
		{[]string{"CMD", "/check", "-v"}, nil, []string{"/check", "-v"}, true},
		{[]string{"CMD"}, nil, []string{}, true},
		{[]string{"CMD-SHELL", "exit 1"}, nil, []string{"/bin/sh", "-c", "exit 1"}, true},
		{[]string{"CMD-SHELL", "exit 1"}, []string{"/bin/ash", "-e", "-c"}, []string{"/bin/ash", "-e", "-c", "exit 1"}, true},
	} {
		cfg := &container.Config{Shell: tc.shell}
		if tc.test != nil {
			cfg.Healthcheck = &container.HealthConfig{Test: tc.test}
		}
		got, ok := probeCommand(cfg)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("probeCommand(%q, shell %q): got %q %v, want %q %v", tc.test, tc.shell, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTiming(t *testing.T) {
	got := timing(&container.HealthConfig{})
	want := healthTiming{interval: 30 * time.Second, timeout: 30 * time.Second, startInterval: 5 * time.Second, retries: 3}
	if got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	got = timing(&container.HealthConfig{Interval: 1, Timeout: 2, StartPeriod: 3, StartInterval: 4, Retries: 5})
	want = healthTiming{interval: 1, timeout: 2, startPeriod: 3, startInterval: 4, retries: 5}
	if got != want {
		t.Errorf("set: got %+v, want %+v", got, want)
	}
}

// TestApplyResult walks the health state machine through a sequence of
// probe results.
func TestApplyResult(t *testing.T) {
	started := time.Unix(1000, 0)
	at := func(secs int) time.Time { return started.Add(time.Duration(secs) * time.Second) }
	type step struct {
		start  int // seconds after the container started
		code   int
		status container.HealthStatus
		streak int
	}
	for _, tc := range []struct {
		name  string
		t     healthTiming
		steps []step
	}{
		{"healthy then unhealthy after retries", healthTiming{retries: 2}, []step{
			{1, 0, container.Healthy, 0}, {2, 1, container.Healthy, 1}, {3, 1, container.Unhealthy, 2},
			{4, -1, container.Unhealthy, 3}, {5, 0, container.Healthy, 0},
		}},
		{"failures in the start period do not count", healthTiming{retries: 1, startPeriod: 10 * time.Second}, []step{
			{1, 1, container.Starting, 0}, {9, 2, container.Starting, 0}, {10, 1, container.Unhealthy, 1},
		}},
		{"start period ends at the first success", healthTiming{retries: 1, startPeriod: 10 * time.Second}, []step{
			{1, 0, container.Healthy, 0}, {2, 1, container.Unhealthy, 1},
		}},
		{"unhealthy from starting", healthTiming{retries: 3}, []step{
			{1, 1, container.Starting, 1}, {2, 1, container.Starting, 2}, {3, 1, container.Unhealthy, 3},
		}},
	} {
		h := &container.Health{Status: container.Starting}
		for i, st := range tc.steps {
			applyResult(h, &container.HealthcheckResult{Start: at(st.start), ExitCode: st.code}, tc.t, started)
			if h.Status != st.status || h.FailingStreak != st.streak {
				t.Errorf("%s, step %d: got %s streak %d, want %s streak %d", tc.name, i, h.Status, h.FailingStreak, st.status, st.streak)
			}
		}
	}
	// The log keeps the last five, oldest first.
	h := &container.Health{Status: container.Starting}
	for i := range 8 {
		applyResult(h, &container.HealthcheckResult{Start: at(i), ExitCode: i}, healthTiming{retries: 100}, started)
	}
	var codes []int
	for _, r := range h.Log {
		codes = append(codes, r.ExitCode)
	}
	if want := []int{3, 4, 5, 6, 7}; !reflect.DeepEqual(codes, want) {
		t.Errorf("log: got exit codes %v, want %v", codes, want)
	}
}

// frame is one multiplexed chunk of an exec's output.
func frame(stream byte, data string) []byte {
	b := make([]byte, 8+len(data))
	b[0] = stream
	binary.BigEndian.PutUint32(b[4:], uint32(len(data)))
	copy(b[8:], data)
	return b
}

func TestProbeOutput(t *testing.T) {
	stream := append(append(frame(1, "out "), frame(2, "err ")...), frame(1, "")...)
	stream = append(stream, frame(1, "end\n")...)
	// Written whole, byte by byte, and in odd pieces: the same text.
	for _, size := range []int{len(stream), 1, 3, 7, 9} {
		p := &probeOutput{}
		for b := stream; len(b) > 0; {
			n := min(size, len(b))
			if k, err := p.Write(b[:n]); k != n || err != nil {
				t.Fatalf("Write: got %d, %v; want %d, nil", k, err, n)
			}
			b = b[n:]
		}
		if got := p.String(); got != "out err end\n" {
			t.Errorf("pieces of %d bytes: got %q, want %q", size, got, "out err end\n")
		}
	}
	// Longer output is cut at 4096 bytes, "..." marking the cut.
	p := &probeOutput{}
	p.Write(frame(1, strings.Repeat("a", 4000)))
	p.Write(frame(2, strings.Repeat("b", 200)))
	got := p.String()
	if want := strings.Repeat("a", 4000) + strings.Repeat("b", 96) + "..."; got != want {
		t.Errorf("long output: got %d bytes ending %q, want %d bytes", len(got), got[len(got)-5:], len(want))
	}
	p = &probeOutput{}
	p.Write(frame(1, strings.Repeat("x", 4096)))
	if got := p.String(); len(got) != 4096 || strings.HasSuffix(got, "...") {
		t.Errorf("exactly 4096 bytes: got %d bytes, suffix %q; want them whole", len(got), got[len(got)-3:])
	}
}

// FuzzProbeOutput: whatever a probe writes (its output reaches berthd as
// a framed stream), the kept output is at most 4096 bytes and "...".
func FuzzProbeOutput(f *testing.F) {
	f.Add(frame(1, "ok\n"))
	f.Add(append(frame(2, "x"), 0, 0, 0))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &probeOutput{}
		half := len(data) / 2
		p.Write(data[:half])
		p.Write(data[half:])
		if n := len(p.String()); n > maxProbeOutput+3 {
			t.Fatalf("kept %d bytes, want at most %d", n, maxProbeOutput+3)
		}
	})
}

func TestHealthStatusText(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		st     container.ContainerState
		health *container.Health
		want   string
	}{
		{container.StateRunning, nil, "Up 3 seconds"},
		{container.StateRunning, &container.Health{Status: container.Starting}, "Up 3 seconds (health: starting)"},
		{container.StateRunning, &container.Health{Status: container.Healthy}, "Up 3 seconds (healthy)"},
		{container.StateRunning, &container.Health{Status: container.Unhealthy}, "Up 3 seconds (unhealthy)"},
		{container.StatePaused, &container.Health{Status: container.Healthy}, "Up 3 seconds (Paused)"},
	} {
		r := &record{ID: strings.Repeat("a", 64), Name: "x", Config: &container.Config{}, HostConfig: &container.HostConfig{},
			State: state{Status: tc.st, StartedAt: now.Add(-3 * time.Second)}, Health: tc.health}
		if got := summary(r, now).Status; got != tc.want {
			t.Errorf("%s with %v: got %q, want %q", tc.st, tc.health, got, tc.want)
		}
	}
	fl := &filter{f: map[string][]string{"health": {"healthy", "none"}}}
	for _, tc := range []struct {
		health *container.Health
		want   bool
	}{{nil, true}, {&container.Health{Status: container.Healthy}, true}, {&container.Health{Status: container.Unhealthy}, false}} {
		r := &record{Config: &container.Config{}, HostConfig: &container.HostConfig{}, Health: tc.health}
		if got := fl.match(r); got != tc.want {
			t.Errorf("health filter healthy,none on %v: got %v, want %v", tc.health, got, tc.want)
		}
	}
}
