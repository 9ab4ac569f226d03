// Package events is berthd's event bus: what happened to images (and,
// later, containers, networks and volumes), in the Docker Engine API's
// event shape, for GET /events.
//
// Publishers call Publish; the bus stamps the time and keeps the last
// events in a ring, so a subscriber asking for events since a moment in
// the recent past gets them replayed before the live ones. A subscriber
// that does not keep up is dropped (its channel closed) rather than
// allowed to slow the publishers down.
package events

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// DefaultKeep is how many past events a bus keeps for replay (dockerd
// keeps 256).
const DefaultKeep = 256

// subBuffer is how many events a subscriber may fall behind before it is
// dropped.
const subBuffer = 1024

// Bus distributes events. The zero value is not usable; call New.
type Bus struct {
	mu   sync.Mutex
	ring []events.Message // oldest first
	keep int
	subs map[*subscription]struct{}
	now  func() time.Time
}

type subscription struct {
	ch     chan events.Message
	closed bool
}

// New returns a bus keeping the last keep events (DefaultKeep when keep
// is not positive).
func New(keep int) *Bus {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Bus{keep: keep, subs: map[*subscription]struct{}{}, now: time.Now}
}

// Publish stamps m with the time (when it has none) and the local scope,
// records it and hands it to every subscriber.
func (b *Bus) Publish(m events.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.TimeNano == 0 {
		t := b.now()
		m.Time, m.TimeNano = t.Unix(), t.UnixNano()
	}
	if m.Scope == "" {
		m.Scope = "local"
	}
	if m.Actor.Attributes == nil {
		m.Actor.Attributes = map[string]string{}
	}
	if len(b.ring) == b.keep {
		copy(b.ring, b.ring[1:])
		b.ring = b.ring[:len(b.ring)-1]
	}
	b.ring = append(b.ring, m)
	for s := range b.subs {
		select {
		case s.ch <- m:
		default: // too slow: drop it, so publishers never wait
			b.drop(s)
		}
	}
}

// Subscribe returns the kept events at or after since (none when since
// is zero) and a channel of the events published from now on. The
// channel is closed by cancel, or when the subscriber falls too far
// behind. Call cancel when done.
func (b *Bus) Subscribe(since time.Time) (past []events.Message, live <-chan events.Message, cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !since.IsZero() {
		for _, m := range b.ring {
			if m.TimeNano >= since.UnixNano() {
				past = append(past, m)
			}
		}
	}
	s := &subscription{ch: make(chan events.Message, subBuffer)}
	b.subs[s] = struct{}{}
	return past, s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.drop(s)
	}
}

func (b *Bus) drop(s *subscription) {
	if !s.closed {
		s.closed = true
		close(s.ch)
		delete(b.subs, s)
	}
}

// Listeners returns the number of subscribers (GET /info's
// NEventsListener).
func (b *Bus) Listeners() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
