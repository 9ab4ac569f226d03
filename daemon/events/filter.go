package events

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
)

// Filter selects events as GET /events's filters do: the values of one
// key are alternatives, different keys must all match. An empty filter
// matches everything.
type Filter map[string][]string

// objectKeys are the filters that match an actor of their kind by ID
// prefix or by name.
var objectKeys = []string{"container", "daemon", "network", "volume", "plugin", "node", "service", "secret", "config"}

// Validate refuses keys dockerd does not know.
func (f Filter) Validate() error {
	for k := range f {
		switch k {
		case "type", "event", "image", "label", "scope":
			continue
		}
		known := false
		for _, o := range objectKeys {
			known = known || k == o
		}
		if !known {
			return fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Match reports whether m passes the filter.
func (f Filter) Match(m events.Message) bool {
	action := string(m.Action)
	if !f.exact("event", action) && !f.exact("event", strings.SplitN(action, ":", 2)[0]) {
		return false
	}
	if !f.exact("type", string(m.Type)) || !f.exact("scope", m.Scope) {
		return false
	}
	for _, k := range objectKeys {
		if !f.prefix(k, m.Actor.ID) && !f.prefix(k, m.Actor.Attributes["name"]) {
			return false
		}
	}
	return f.matchImage(m) && f.matchLabels(m.Actor.Attributes)
}

// matchImage: an image event's actor is the image (ID or reference, and
// its name attribute); other events name their image in "image".
func (f Filter) matchImage(m events.Message) bool {
	if len(f["image"]) == 0 {
		return true
	}
	attr := "image"
	if m.Type == events.ImageEventType {
		attr = "name"
	}
	name := m.Actor.Attributes[attr]
	return f.exact("image", m.Actor.ID) || f.exact("image", name) ||
		f.exact("image", stripTag(m.Actor.ID)) || f.exact("image", stripTag(name))
}

// matchLabels: "key" needs the attribute, "key=value" its value.
func (f Filter) matchLabels(attrs map[string]string) bool {
	for _, l := range f["label"] {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := attrs[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

func (f Filter) exact(key, value string) bool {
	vs, ok := f[key]
	if !ok || len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if v == value {
			return true
		}
	}
	return false
}

func (f Filter) prefix(key, value string) bool {
	vs, ok := f[key]
	if !ok || len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if v != "" && strings.HasPrefix(value, v) {
			return true
		}
	}
	return false
}

// stripTag returns a reference without its tag or digest, so that a
// filter on "busybox" matches "busybox:latest".
func stripTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
