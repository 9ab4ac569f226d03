package containers

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"
)

// ListOptions are the query of GET /containers/json.
type ListOptions struct {
	All   bool
	Limit int
	Size  bool
	// Filters are the decoded "filters": id, name, status, label,
	// ancestor, exited, before, since (and dockerd's others, accepted).
	Filters map[string][]string
}

// listFilters are the filter keys dockerd accepts on GET /containers/json.
var listFilters = map[string]bool{
	"id": true, "name": true, "status": true, "label": true, "ancestor": true, "exited": true,
	"before": true, "since": true, "health": true, "network": true, "volume": true, "publish": true,
	"expose": true, "isolation": true, "is-task": true, "annotation": true,
}

var validStatus = map[string]bool{
	"created": true, "restarting": true, "running": true, "removing": true, "paused": true, "exited": true, "dead": true,
}

// filter is a decoded, checked set of list filters.
type filter struct {
	f             map[string][]string
	exited        map[int]bool
	images        map[digest.Digest]bool
	imageNames    []string // ancestors that name no image here
	before, since time.Time
	hasBefore     bool
	hasSince      bool
	forceAll      bool
}

func (s *Service) compileFilter(ctx context.Context, f map[string][]string) (*filter, error) {
	fl := &filter{f: f, exited: map[int]bool{}, images: map[digest.Digest]bool{}}
	for k, vs := range f {
		if !listFilters[k] {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s'", k)
		}
		for _, v := range vs {
			switch k {
			case "status":
				if !validStatus[v] {
					return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'status=%s'", v)
				}
				fl.forceAll = true
			case "exited":
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'exited=%s'", v)
				}
				fl.exited[n] = true
				fl.forceAll = true
			case "ancestor":
				if img, err := s.o.Images.Get(ctx, v); err == nil {
					fl.images[img.ID] = true
				} else {
					fl.imageNames = append(fl.imageNames, v)
				}
			case "before", "since":
				c, err := s.get(v)
				if err != nil {
					return nil, err
				}
				created := c.created()
				if k == "before" {
					fl.before, fl.hasBefore = created, true
				} else {
					fl.since, fl.hasSince = created, true
				}
			case "health":
				if err := container.ValidateHealthStatus(container.HealthStatus(v)); err != nil {
					return nil, errorf(errdefs.ErrInvalidArgument, "Unrecognised filter value for health: %s", v)
				}
			case "publish", "expose":
				if _, err := parsePortFilter(v); err != nil {
					return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s=%s': %v", k, v, err)
				}
			}
		}
	}
	return fl, nil
}

func (c *ctr) created() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.Created
}

// match applies the filters to a record; the caller holds c.mu.
func (fl *filter) match(r *record) bool {
	f := fl.f
	if vs := f["volume"]; len(vs) > 0 && !slices.ContainsFunc(vs, func(v string) bool { return usesVolume(r, v) }) {
		return false
	}
	if vs := f["id"]; len(vs) > 0 && !matchAny(vs, r.ID) {
		return false
	}
	if vs := f["name"]; len(vs) > 0 && !matchAny(vs, "/"+r.Name) {
		return false
	}
	if vs := f["status"]; len(vs) > 0 && !contains(vs, string(r.State.Status)) {
		return false
	}
	if len(fl.exited) > 0 && (r.State.Status != container.StateExited || !fl.exited[r.State.ExitCode]) {
		return false
	}
	if len(f["ancestor"]) > 0 && !fl.images[r.ImageID] && !contains(fl.imageNames, r.Config.Image) {
		return false
	}
	for _, l := range f["label"] {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := r.Config.Labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	for _, a := range f["annotation"] {
		k, v, hasValue := strings.Cut(a, "=")
		got, ok := r.HostConfig.Annotations[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	if vs := f["health"]; len(vs) > 0 && !contains(vs, string(healthOf(r))) {
		return false
	}
	if vs := f["network"]; len(vs) > 0 && !slices.ContainsFunc(vs, func(v string) bool { return onNetwork(r, v) }) {
		return false
	}
	if vs := f["is-task"]; len(vs) > 0 && !contains(vs, "false") {
		return false
	}
	if fl.hasBefore && !r.Created.Before(fl.before) {
		return false
	}
	if fl.hasSince && !r.Created.After(fl.since) {
		return false
	}
	return true
}

// matchAny matches a value as dockerd's filters do: exactly, or as an
// unanchored regular expression.
func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if p == s {
			return true
		}
		if re, err := regexp.Compile(p); err == nil && re.MatchString(s) {
			return true
		}
	}
	return false
}

func contains(vs []string, s string) bool {
	for _, v := range vs {
		if v == s {
			return true
		}
	}
	return false
}

// List lists containers as GET /containers/json: the running ones, or all
// with All (or a status or exited filter), newest first.
func (s *Service) List(ctx context.Context, o ListOptions) ([]container.Summary, error) {
	fl, err := s.compileFilter(ctx, o.Filters)
	if err != nil {
		return nil, err
	}
	all := o.All || o.Limit > 0 || fl.forceAll
	now := time.Now()
	out := []container.Summary{}
	for _, c := range s.all() {
		if o.Limit > 0 && len(out) >= o.Limit {
			break
		}
		c.mu.Lock()
		if c.gone || (!all && !c.rec.State.running()) || !fl.match(c.rec) {
			c.mu.Unlock()
			continue
		}
		sum := summary(c.rec, now)
		s.netSummary(&sum, c)
		c.mu.Unlock()
		if !portsMatch(o.Filters, sum.Ports) {
			continue
		}
		if o.Size {
			if u, err := s.o.Snapshots.Usage(ctx, c.id); err == nil {
				sum.SizeRw = u.Size
				sum.SizeRootFs = u.Size
			}
			if img, err := s.o.Images.Get(ctx, sum.ImageID); err == nil {
				sum.SizeRootFs += img.Size
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

// summary is a container as GET /containers/json lists it.
func summary(r *record, now time.Time) container.Summary {
	labels := r.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	sum := container.Summary{
		ID: r.ID, Names: []string{"/" + r.Name}, Image: r.Config.Image, ImageID: r.ImageID.String(),
		Command: strings.Join(append([]string{r.Path}, r.Args...), " "), Created: r.Created.Unix(),
		Ports: []container.PortSummary{}, Labels: labels, State: r.State.Status, Status: statusText(r.State, now),
		NetworkSettings: &container.NetworkSettingsSummary{Networks: networks(r.HostConfig)},
		Mounts:          containerMounts(r),
	}
	if h := healthOf(r); r.State.Status == container.StateRunning && h != container.NoHealthcheck {
		sum.Status += " (" + healthText(h) + ")"
	}
	sum.HostConfig.NetworkMode = string(r.HostConfig.NetworkMode)
	sum.HostConfig.Annotations = r.HostConfig.Annotations
	return sum
}

// networks is what a container is attached to: its network mode's name,
// with no address, for there is no network service yet.
func networks(hc *container.HostConfig) map[string]*network.EndpointSettings {
	name := hc.NetworkMode.NetworkName()
	if name == "" {
		name = string(hc.NetworkMode)
	}
	return map[string]*network.EndpointSettings{name: {}}
}
