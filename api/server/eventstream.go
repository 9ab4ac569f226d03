package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"

	bus "github.com/berth-dev/berth/daemon/events"
)

// wireEvent is an event as API versions before 1.52 send it: with the
// deprecated status, id and from of container and image events.
type wireEvent struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

func toWire(m events.Message) wireEvent {
	w := wireEvent{Message: m}
	if m.Type == events.ContainerEventType || m.Type == events.ImageEventType {
		w.Status, w.ID = string(m.Action), m.Actor.ID
		if m.Type == events.ContainerEventType {
			w.From = m.Actor.Attributes["image"]
		}
	}
	return w
}

// events answers GET /events: the kept events since "since", then new
// ones as they happen, until "until", the client leaving, or shutdown.
func (s *Server) events(w http.ResponseWriter, r *http.Request, src EventSource) error {
	q := r.URL.Query()
	since, err := parseTimestamp(q.Get("since"))
	if err != nil {
		return err
	}
	until, err := parseTimestamp(q.Get("until"))
	if err != nil {
		return err
	}
	f, err := filters(r)
	if err != nil {
		return err
	}
	filter := bus.Filter(f)
	if err := filter.Validate(); err != nil {
		return err
	}
	past, live, cancel := src.Subscribe(since)
	defer cancel()
	st := newStream(r.Context(), w)
	st.begin()
	send := func(m events.Message) bool {
		if !until.IsZero() && m.TimeNano > until.UnixNano() {
			return false
		}
		if filter.Match(m) {
			if err := st.sendValue(toWire(m)); err != nil {
				return false
			}
		}
		return true
	}
	for _, m := range past {
		if !send(m) {
			return nil
		}
	}
	var deadline <-chan time.Time
	if !until.IsZero() {
		d := time.Until(until)
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case m, ok := <-live:
			if !ok || !send(m) {
				return nil
			}
		case <-deadline:
			return nil
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		}
	}
}

// parseTimestamp reads dockerd's timestamps: Unix seconds with an
// optional fraction ("1700000000.123456789"). Empty is the zero time.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	secS, fracS, hasFrac := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secS, 10, 64)
	if err != nil {
		return time.Time{}, errorf(errdefs.ErrInvalidArgument, "invalid timestamp %q: want seconds since the epoch", s)
	}
	var nsec int64
	if hasFrac {
		if len(fracS) > 9 {
			fracS = fracS[:9]
		}
		if nsec, err = strconv.ParseInt(fracS+strings.Repeat("0", 9-len(fracS)), 10, 64); err != nil || nsec < 0 {
			return time.Time{}, errorf(errdefs.ErrInvalidArgument, "invalid timestamp %q: want seconds since the epoch", s)
		}
	}
	return time.Unix(sec, nsec), nil
}
