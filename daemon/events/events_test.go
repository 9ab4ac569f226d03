package events

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// clock is a fake time source that advances a second per call.
func clock(start time.Time) func() time.Time {
	t := start
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestReplayAndLive(t *testing.T) {
	b := New(3)
	start := time.Unix(1000, 0)
	b.now = clock(start)
	for i := range 5 {
		b.Publish(events.Message{Type: events.ImageEventType, Action: events.ActionTag, Actor: events.Actor{ID: fmt.Sprint(i)}})
	}
	past, live, cancel := b.Subscribe(start.Add(4 * time.Second))
	defer cancel()
	var got []string
	for _, m := range past {
		got = append(got, m.Actor.ID)
	}
	// Five published, three kept; of those, the ones at or after 1004 s.
	if strings.Join(got, ",") != "3,4" {
		t.Errorf("replay since 1004: got %v, want [3 4]", got)
	}
	if past[0].Scope != "local" || past[0].Time != 1004 || past[0].TimeNano != 1004e9 || past[0].Actor.Attributes == nil {
		t.Errorf("stamped event: got %+v", past[0])
	}
	if p, _, c := b.Subscribe(time.Time{}); len(p) != 0 {
		t.Errorf("subscribe without since: got %d past events, want none", len(p))
		c()
	} else {
		c()
	}
	b.Publish(events.Message{Action: "live"})
	select {
	case m := <-live:
		if m.Action != "live" {
			t.Errorf("live: got %q", m.Action)
		}
	case <-time.After(time.Second):
		t.Fatal("no live event")
	}
	if n := b.Listeners(); n != 1 {
		t.Errorf("Listeners: got %d, want 1", n)
	}
	cancel()
	cancel() // twice is harmless
	if n := b.Listeners(); n != 0 {
		t.Errorf("Listeners after cancel: got %d, want 0", n)
	}
	if _, ok := <-live; ok {
		t.Error("channel open after cancel")
	}
}

// TestSlowSubscriberDropped: a subscriber that never reads is dropped,
// and publishing never blocks.
func TestSlowSubscriberDropped(t *testing.T) {
	b := New(0)
	_, live, cancel := b.Subscribe(time.Time{})
	defer cancel()
	done := make(chan struct{})
	go func() {
		for range subBuffer + 10 {
			b.Publish(events.Message{Action: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	n := 0
	for range live {
		n++
	}
	if n != subBuffer || b.Listeners() != 0 {
		t.Errorf("slow subscriber: got %d events and %d listeners, want %d and 0", n, b.Listeners(), subBuffer)
	}
}

func TestFilter(t *testing.T) {
	pull := events.Message{Type: events.ImageEventType, Action: events.ActionPull, Scope: "local",
		Actor: events.Actor{ID: "busybox:latest", Attributes: map[string]string{"name": "busybox", "team": "a"}}}
	tag := events.Message{Type: events.ImageEventType, Action: events.ActionTag, Scope: "local",
		Actor: events.Actor{ID: "sha256:abc", Attributes: map[string]string{"name": "reg:5000/app:v1"}}}
	start := events.Message{Type: events.ContainerEventType, Action: "health_status: healthy", Scope: "local",
		Actor: events.Actor{ID: "0123456789ab", Attributes: map[string]string{"name": "web", "image": "busybox:latest"}}}
	cases := []struct {
		f    Filter
		want string // which of pull, tag, start match
	}{
		{Filter{}, "pull start tag"},
		{Filter{"type": {"image"}}, "pull tag"},
		{Filter{"event": {"tag", "pull"}}, "pull tag"},
		{Filter{"event": {"health_status"}}, "start"},
		{Filter{"image": {"busybox"}}, "pull start"},
		{Filter{"image": {"busybox:latest"}}, "pull start"},
		{Filter{"image": {"reg:5000/app"}}, "tag"},
		{Filter{"image": {"sha256:abc"}}, "tag"},
		{Filter{"container": {"0123"}}, "start"},
		{Filter{"container": {"web"}}, "start"},
		{Filter{"label": {"team"}}, "pull"},
		{Filter{"label": {"team=b"}}, ""},
		{Filter{"scope": {"swarm"}}, ""},
		{Filter{"type": {"image"}, "event": {"tag"}}, "tag"},
	}
	for _, c := range cases {
		var got []string
		for name, m := range map[string]events.Message{"pull": pull, "tag": tag, "start": start} {
			if c.f.Match(m) {
				got = append(got, name)
			}
		}
		if strings.Join(sortStrings(got), " ") != c.want {
			t.Errorf("filter %v: got %v, want %q", c.f, got, c.want)
		}
	}
	if err := (Filter{"colour": {"blue"}}).Validate(); err == nil {
		t.Error("unknown filter key: got nil, want an error")
	}
	if err := (Filter{"type": nil, "container": nil, "label": nil}).Validate(); err != nil {
		t.Errorf("known keys: got %v", err)
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}
