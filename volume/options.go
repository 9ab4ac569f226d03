package volume

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/internal/mount"
)

// checkOptions validates the local driver's options as dockerd does:
// type, device and o (mount(8)'s -t, device, -o) go together; size needs
// quota support, which berth does not have.
func checkOptions(opts map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		switch k {
		case "type", "device", "o":
		case "size":
			return errorf(errdefs.ErrInvalidArgument, "quota size requested but no quota support")
		default:
			return errorf(errdefs.ErrInvalidArgument, "invalid option: %q", k)
		}
	}
	typ, dev, o := opts["type"], opts["device"], opts["o"]
	switch {
	case typ != "" && dev == "", o != "" && dev == "":
		return errorf(errdefs.ErrInvalidArgument, "missing required option: \"device\"")
	case dev != "" && typ == "":
		return errorf(errdefs.ErrInvalidArgument, "missing required option: \"type\"")
	case strings.ContainsRune(typ+dev+o, 0):
		return errorf(errdefs.ErrInvalidArgument, "volume options must not contain NUL bytes")
	}
	return nil
}

// mountSpec is the mount the options ask for, or false when the volume
// is a plain directory.
func (r *record) mountSpec() (mount.Mount, bool) {
	if r.Options["type"] == "" && r.Options["device"] == "" {
		return mount.Mount{}, false
	}
	m := mount.Mount{Type: r.Options["type"], Source: r.Options["device"]}
	if o := r.Options["o"]; o != "" {
		m.Options = strings.Split(o, ",")
	}
	if slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind") {
		m.Type = "bind"
	}
	return m, true
}

// mountData mounts what the options ask for on the volume's data
// directory unless it is mounted already (a berthd restart finds the
// mounts of running containers in place). The caller holds s.mu.
func (s *Service) mountData(r *record) error {
	m, ok := r.mountSpec()
	if !ok {
		return nil
	}
	dir := s.dataDir(r.Name)
	if mps, err := mount.Under(dir); err == nil && slices.Contains(mps, dir) {
		return nil
	}
	if err := mount.All([]mount.Mount{m}, dir); err != nil {
		return fmt.Errorf("mount volume %s: %w", r.Name, err)
	}
	return nil
}
