package server

import (
	match "github.com/berth-dev/berth/internal/filters"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// networkMatcher is GET /networks' filters as dockerd applies them:
// values of one key are alternatives, keys all apply. name and id match
// a part (or a regular expression), driver and scope exactly, label
// every KEY or KEY=VALUE given, type custom or builtin (the predefined
// networks), dangling true (no container, not predefined) or false.
type networkMatcher struct {
	f        map[string][]string
	dangling *bool
	builtin  *bool
}

// newNetworkMatcher checks the values of type and dangling.
func newNetworkMatcher(f map[string][]string) (*networkMatcher, error) {
	m := &networkMatcher{f: f}
	for _, v := range f["type"] {
		var b bool
		switch v {
		case "custom":
		case "builtin":
			b = true
		default:
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'type=%s'", v)
		}
		if m.builtin != nil && *m.builtin != b {
			m.builtin = nil // both kinds: no filter
			return m, nil
		}
		m.builtin = &b
	}
	if vs := f["dangling"]; len(vs) > 0 {
		var b bool
		switch strings.ToLower(vs[0]) {
		case "true", "1":
			b = true
		case "false", "0":
		default:
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'dangling=%s'", vs[0])
		}
		m.dangling = &b
	}
	return m, nil
}

func (m *networkMatcher) match(n network.Inspect) bool {
	predefined := predefinedNetworks[n.Name]
	if m.builtin != nil && *m.builtin != predefined {
		return false
	}
	if m.dangling != nil {
		unused := !predefined && len(n.Containers) == 0
		if *m.dangling != unused {
			return false
		}
	}
	return matchAny(m.f["name"], n.Name, partMatch) && matchAny(m.f["id"], n.ID, partMatch) &&
		matchAny(m.f["driver"], n.Driver, exactMatch) && matchAny(m.f["scope"], n.Scope, exactMatch) &&
		match.Labels(n.Labels, m.f["label"], nil)
}

// matchAny reports whether one of values matches s (no values: true).
func matchAny(values []string, s string, match func(value, s string) bool) bool {
	for _, v := range values {
		if match(v, s) {
			return true
		}
	}
	return len(values) == 0
}

func exactMatch(value, s string) bool { return value == s }

// partMatch is dockerd's Match: equal, or value as a regular expression
// found in s (a value that is no expression matches only itself).
func partMatch(value, s string) bool {
	if value == s {
		return true
	}
	re, err := regexp.Compile(value)
	return err == nil && re.MatchString(s)
}
