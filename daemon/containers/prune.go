package containers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// Prune removes the containers that do not run, as POST
// /containers/prune, with its filters: until (a time or a duration
// before now), label and label! (key or key=value).
func (s *Service) Prune(ctx context.Context, filters map[string][]string) (container.PruneReport, error) {
	report := container.PruneReport{ContainersDeleted: []string{}}
	var until time.Time
	for k, vs := range filters {
		switch k {
		case "label", "label!":
		case "until":
			for _, v := range vs {
				t, err := parseUntil(v, time.Now())
				if err != nil {
					return report, err
				}
				until = t
			}
		default:
			return report, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s'", k)
		}
	}
	for _, c := range s.all() {
		c.mu.Lock()
		r := c.rec
		keep := r.State.running() || c.removing || c.gone ||
			!until.IsZero() && !r.Created.Before(until) ||
			!labelsMatch(r.Config.Labels, filters["label"], true) || !labelsMatch(r.Config.Labels, filters["label!"], false)
		c.mu.Unlock()
		if keep {
			continue
		}
		var size int64
		if u, err := s.o.Snapshots.Usage(ctx, c.id); err == nil {
			size = u.Size
		}
		if err := s.remove(ctx, c, false, false); err != nil {
			if errdefs.IsConflict(err) || errdefs.IsNotFound(err) {
				continue // it started meanwhile, or went
			}
			return report, err
		}
		report.ContainersDeleted = append(report.ContainersDeleted, c.id)
		report.SpaceReclaimed += uint64(size)
	}
	s.o.Events.Publish(events.Message{Type: events.ContainerEventType, Action: events.ActionPrune,
		Actor: events.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)}}})
	return report, nil
}

// labelsMatch reports whether labels have all of want (with), or none of
// them (without).
func labelsMatch(labels map[string]string, want []string, with bool) bool {
	for _, l := range want {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := labels[k]
		has := ok && (!hasValue || got == v)
		if has != with {
			return false
		}
	}
	return true
}

// parseUntil reads an until filter: Unix seconds (with a fraction), an
// RFC 3339 time or date, or a Go duration before now.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if sec, frac, _ := strings.Cut(v, "."); sec != "" {
		if n, err := strconv.ParseInt(sec, 10, 64); err == nil {
			ns := int64(0)
			if frac != "" {
				f, err := strconv.ParseFloat("0."+frac, 64)
				if err != nil {
					return time.Time{}, errorf(errdefs.ErrInvalidArgument, "invalid until filter %q", v)
				}
				ns = int64(f * 1e9)
			}
			return time.Unix(n, ns), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errorf(errdefs.ErrInvalidArgument, "invalid until filter %q", v)
}
