package containers

import (
	"context"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/internal/filters"
)

// Prune removes the containers that do not run, as POST
// /containers/prune, with its filters: until (a time or a duration
// before now), label and label! (key or key=value).
func (s *Service) Prune(ctx context.Context, f map[string][]string) (container.PruneReport, error) {
	report := container.PruneReport{ContainersDeleted: []string{}}
	var until time.Time
	for k, vs := range f {
		switch k {
		case "label", "label!":
		case "until":
			for _, v := range vs {
				t, err := filters.Until(v, time.Now())
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
			!filters.Labels(r.Config.Labels, f["label"], f["label!"])
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
