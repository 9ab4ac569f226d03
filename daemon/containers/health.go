package containers

import (
	"context"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// Health checks run as dockerd runs them: a monitor goroutine per running
// (not paused) container whose configuration has a CMD or CMD-SHELL test
// runs the test as an exec in the container every interval (the start
// interval while the container is starting within its start period),
// kills it when it outlives its timeout, and keeps the last five results.
// A zero exit code makes the container healthy and resets the failing
// streak; any other result adds to the streak, except while the
// container is still starting within its start period, and the streak
// reaching the retries makes it unhealthy. Each change of status is a
// "health_status: <status>" event.
//
// berth adds what podman calls --health-on-failure: the container label
// berth.health-on-failure (none, restart, stop or kill) names what is
// done to the container when it becomes unhealthy. A label, because the
// docker CLI cannot send a HostConfig field it does not know.
//
//	start / unpause / live restore ──▶ monitor ──probe──▶ result ──▶ status
//	exit / stop / kill / pause ──▶ monitor stops            └─ unhealthy ──▶ on-failure action

// Docker's defaults and limits.
const (
	defaultProbeInterval = 30 * time.Second
	defaultProbeTimeout  = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultProbeRetries  = 3
	// probeStartTimeout bounds the start of the exec itself, which does
	// not count against the test's timeout.
	probeStartTimeout = 30 * time.Second
	// healthLogSize is how many results inspect shows.
	healthLogSize = 5
)

// labelHealthOnFailure names the action taken when a container becomes
// unhealthy.
const labelHealthOnFailure = "berth.health-on-failure"

// The actions of labelHealthOnFailure, podman's names.
const (
	onFailureNone    = "none"
	onFailureRestart = "restart"
	onFailureStop    = "stop"
	onFailureKill    = "kill"
)

// checkHealth validates a create request's healthcheck with dockerd's
// messages, and the on-failure label.
func checkHealth(cfg *container.Config) error {
	if h := cfg.Healthcheck; h != nil {
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
			if d.v != 0 && d.v < container.MinimumDuration {
				return errorf(errdefs.ErrInvalidArgument, "%s in Healthcheck cannot be less than %s", d.name, container.MinimumDuration)
			}
		}
		if h.Retries < 0 {
			return errorf(errdefs.ErrInvalidArgument, "Retries in Healthcheck cannot be negative")
		}
	}
	if v, ok := cfg.Labels[labelHealthOnFailure]; ok {
		switch v {
		case onFailureNone, onFailureRestart, onFailureStop, onFailureKill:
		default:
			return errorf(errdefs.ErrInvalidArgument, "invalid value %q for label %s: the health-on-failure action must be one of none, restart, stop, kill", v, labelHealthOnFailure)
		}
	}
	return nil
}

// mergeHealthcheck completes the request's healthcheck with the image's
// field by field, as dockerd does: a zero field (an empty test) inherits.
// Neither argument is modified.
func mergeHealthcheck(req, img *container.HealthConfig) *container.HealthConfig {
	if req == nil {
		if img == nil {
			return nil
		}
		req = &container.HealthConfig{}
	}
	h := *req
	h.Test = append([]string(nil), req.Test...)
	if img == nil {
		return &h
	}
	if len(h.Test) == 0 {
		h.Test = append([]string(nil), img.Test...)
	}
	if h.Interval == 0 {
		h.Interval = img.Interval
	}
	if h.Timeout == 0 {
		h.Timeout = img.Timeout
	}
	if h.StartPeriod == 0 {
		h.StartPeriod = img.StartPeriod
	}
	if h.StartInterval == 0 {
		h.StartInterval = img.StartInterval
	}
	if h.Retries == 0 {
		h.Retries = img.Retries
	}
	return &h
}

// probeCommand is the command a container's healthcheck runs, and
// whether it has one: NONE, no test or an unknown type have none.
func probeCommand(cfg *container.Config) ([]string, bool) {
	h := cfg.Healthcheck
	if h == nil || len(h.Test) == 0 {
		return nil, false
	}
	switch h.Test[0] {
	case "CMD":
		return append([]string{}, h.Test[1:]...), true
	case "CMD-SHELL":
		shell := cfg.Shell
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		return append(append([]string{}, shell...), h.Test[1:]...), true
	}
	return nil, false
}

// healthTiming is a healthcheck's timing with Docker's defaults applied.
type healthTiming struct {
	interval, timeout, startPeriod, startInterval time.Duration
	retries                                       int
}

func timing(h *container.HealthConfig) healthTiming {
	or := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	t := healthTiming{interval: or(h.Interval, defaultProbeInterval), timeout: or(h.Timeout, defaultProbeTimeout),
		startPeriod: h.StartPeriod, startInterval: or(h.StartInterval, defaultStartInterval), retries: h.Retries}
	if t.retries <= 0 {
		t.retries = defaultProbeRetries
	}
	return t
}

// healthMonitor is one run of a container's monitor; stop ends it.
type healthMonitor struct {
	stop chan struct{}
}

// initHealth resets the health of a container that starts (or was found
// running by a new berthd) to starting, keeping its log, and starts its
// monitor.
func (s *Service) initHealth(c *ctr) {
	c.mu.Lock()
	if _, ok := probeCommand(c.rec.Config); !ok {
		c.mu.Unlock()
		return
	}
	c.stopHealth()
	if c.rec.Health == nil {
		c.rec.Health = &container.Health{}
	}
	c.rec.Health.Status = container.Starting
	c.rec.Health.FailingStreak = 0
	if err := s.save(c); err != nil {
		s.log.Error("record a container's health", "container", c.id, "error", err)
	}
	c.mu.Unlock()
	s.updateHealth(c)
}

// updateHealth starts the monitor of a running container with a
// healthcheck, or stops it for one that is not running (or paused).
func (s *Service) updateHealth(c *ctr) {
	c.mu.Lock()
	_, ok := probeCommand(c.rec.Config)
	want := ok && c.rec.Health != nil && c.sh != nil && c.rec.State.Status == container.StateRunning
	if !want {
		c.stopHealth()
	}
	var m *healthMonitor
	if want && c.health == nil {
		m = &healthMonitor{stop: make(chan struct{})}
		c.health = m
	}
	c.mu.Unlock()
	if m != nil {
		s.background(func() { s.monitor(c, m) })
	}
}

// stopHealth ends the container's monitor, if one runs, without waiting
// for it: a probe in flight is killed and its result dropped. The caller
// holds c.mu.
func (c *ctr) stopHealth() {
	if c.health != nil {
		close(c.health.stop)
		c.health = nil
	}
}

// monitor runs a container's healthcheck until m is stopped or berthd
// shuts down.
func (s *Service) monitor(c *ctr, m *healthMonitor) {
	c.mu.Lock()
	cmd, _ := probeCommand(c.rec.Config)
	t := timing(c.rec.Config.Healthcheck)
	started := c.rec.State.StartedAt
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	next := func() time.Duration {
		if time.Since(started) >= t.startPeriod || c.healthStatus() != container.Starting {
			return t.interval
		}
		return t.startInterval
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		res := s.probe(ctx, c, cmd, t.timeout)
		if res == nil {
			return // stopped while probing
		}
		s.healthResult(c, m, t, res)
		timer.Reset(next())
	}
}

func (c *ctr) healthStatus() container.HealthStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec.Health == nil {
		return container.NoHealthcheck
	}
	return c.rec.Health.Status
}

// healthResult records one result, as dockerd does: the log, the streak,
// the status; a change of status is an event, and becoming unhealthy
// triggers the on-failure action.
func (s *Service) healthResult(c *ctr, m *healthMonitor, t healthTiming, res *container.HealthcheckResult) {
	c.mu.Lock()
	h := c.rec.Health
	if c.health != m || h == nil || c.rec.State.Status != container.StateRunning {
		// Stopped meanwhile: the result is of a run that ended.
		c.mu.Unlock()
		return
	}
	old := h.Status
	applyResult(h, res, t, c.rec.State.StartedAt)
	if err := s.save(c); err != nil {
		s.log.Error("record a container's health", "container", c.id, "error", err)
	}
	status := h.Status
	action := c.rec.Config.Labels[labelHealthOnFailure]
	c.mu.Unlock()
	if status == old {
		return
	}
	s.publish(c, events.Action(string(events.ActionHealthStatus)+": "+string(status)), nil)
	if status == container.Unhealthy && action != "" && action != onFailureNone {
		s.onFailure(c, m, action)
	}
}

// applyResult adds a result to a container's health. A failure while the
// container is starting within its start period does not count.
func applyResult(h *container.Health, res *container.HealthcheckResult, t healthTiming, startedAt time.Time) {
	log := append(h.Log, res)
	if len(log) > healthLogSize {
		log = append([]*container.HealthcheckResult(nil), log[len(log)-healthLogSize:]...)
	}
	h.Log = log
	if res.ExitCode == 0 {
		h.FailingStreak = 0
		h.Status = container.Healthy
		return
	}
	if h.Status == container.Starting && res.Start.Sub(startedAt) < t.startPeriod {
		return
	}
	h.FailingStreak++
	if h.FailingStreak >= t.retries {
		h.Status = container.Unhealthy
	}
}

// onFailure acts on a container that became unhealthy, as the user's
// restart, stop or kill would, unless its run ended meanwhile.
func (s *Service) onFailure(c *ctr, m *healthMonitor, action string) {
	s.background(func() {
		ctx := s.ctx
		if err := c.lock(ctx); err != nil {
			return
		}
		defer c.unlock()
		c.mu.Lock()
		current := c.health == m && c.rec.State.Status == container.StateRunning && !c.removing && !c.gone
		c.mu.Unlock()
		if !current {
			return
		}
		s.log.Info("container is unhealthy; acting on it", "container", c.id, "action", action)
		var err error
		switch action {
		case onFailureRestart:
			err = s.restart(ctx, c, "", nil, true)
		case onFailureStop:
			err = s.stop(ctx, c, "", nil, true)
		case onFailureKill:
			if err = s.signal(ctx, c, syscall.SIGKILL, false); err == nil {
				s.waitExit(ctx, c, 10)
			}
		}
		if err != nil && !errdefs.IsNotModified(err) {
			s.log.Warn("health-on-failure action", "container", c.id, "action", action, "error", err)
		}
	})
}

// healthOf is a container's health status for docker ps and its health
// filter: "none" without a healthcheck.
func healthOf(r *record) container.HealthStatus {
	if r.Health == nil {
		return container.NoHealthcheck
	}
	return r.Health.Status
}

// healthText is the health in docker ps's STATUS: "Up 3 seconds
// (health: starting)", "(healthy)", "(unhealthy)".
func healthText(h container.HealthStatus) string {
	if h == container.Starting {
		return "health: starting"
	}
	return string(h)
}

// copyHealth is a copy of a health state for inspect, nil for none.
func copyHealth(h *container.Health) *container.Health {
	if h == nil {
		return nil
	}
	out := &container.Health{Status: h.Status, FailingStreak: h.FailingStreak, Log: []*container.HealthcheckResult{}}
	for _, r := range h.Log {
		if r == nil {
			continue
		}
		cp := *r
		out.Log = append(out.Log, &cp)
	}
	return out
}
