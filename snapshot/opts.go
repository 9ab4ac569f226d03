package snapshot

import "maps"

// Opt sets an option of Prepare, View or Commit.
type Opt func(*Options)

// Options are the options after every Opt is applied; implementations read
// them through NewOptions.
type Options struct {
	Labels map[string]string
	// Parent and HasParent come from WithParent; HasParent distinguishes
	// WithParent("") (commit as a base layer) from no WithParent at all.
	Parent    string
	HasParent bool
}

// NewOptions applies opts in order.
func NewOptions(opts ...Opt) Options {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithLabels adds labels to the snapshot; later labels win.
func WithLabels(labels map[string]string) Opt {
	return func(o *Options) {
		if o.Labels == nil {
			o.Labels = make(map[string]string, len(labels))
		}
		maps.Copy(o.Labels, labels)
	}
}

// WithParent, on Commit, sets the committed snapshot's parent, which may
// differ from the one the active snapshot was prepared on when the
// snapshotter's Features().Rebase is true. Prepare and View ignore it.
func WithParent(parent string) Opt {
	return func(o *Options) { o.Parent, o.HasParent = parent, true }
}
