package volume

import (
	"github.com/berth-dev/berth/internal/filters"
	"slices"

	"github.com/containerd/errdefs"
)

// filter is a parsed set of volume filters; every key must match, any
// value of a key may.
type filter struct {
	dangling  *bool
	drivers   []string
	names     []string
	labels    []string // "key" or "key=value": the volume has it
	notLabels []string // label!: the volume has none of them
}

// parseFilters checks filters against the keys allowed, with dockerd's
// messages.
func parseFilters(in map[string][]string, allowed ...string) (*filter, error) {
	f := &filter{}
	for k, vs := range in {
		if !slices.Contains(allowed, k) {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s'", k)
		}
		switch k {
		case "dangling":
			for _, v := range vs {
				b, err := filters.Bool("dangling", v)
				if err != nil {
					return nil, err
				}
				if f.dangling != nil && *f.dangling != b {
					return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter 'dangling': both true and false given")
				}
				f.dangling = &b
			}
		case "driver":
			f.drivers = vs
		case "name":
			f.names = vs
		case "label":
			f.labels = vs
		case "label!":
			f.notLabels = vs
		}
	}
	return f, nil
}

// match reports whether the volume r, in use or not, passes.
func (f *filter) match(r *record, inUse bool) bool {
	if f.dangling != nil && *f.dangling == inUse {
		return false
	}
	if len(f.drivers) > 0 && !slices.Contains(f.drivers, r.Driver) {
		return false
	}
	if len(f.names) > 0 && !slices.ContainsFunc(f.names, func(n string) bool { return filters.Name(n, r.Name) }) {
		return false
	}
	return filters.Labels(r.Labels, f.labels, f.notLabels)
}
