package spec

import (
	"slices"
	"strings"

	"github.com/moby/sys/capability"
)

// DefaultCapabilities returns Docker's default capability set.
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// knownCaps lists every capability name this build knows, in number order.
func knownCaps() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, capName(c))
	}
	return out
}

// hostCaps are the capabilities a container may be given.
func (h *Host) hostCaps() []string {
	if h.Caps != nil {
		return h.Caps
	}
	return knownCaps()
}

// capabilities computes the container's capability set as Docker does:
// every host capability when privileged; otherwise the defaults, with
// CapDrop removed and CapAdd added. "ALL" in CapAdd starts from every host
// capability (less CapDrop); "ALL" in CapDrop starts from nothing (plus
// CapAdd). Names are case-insensitive and the CAP_ prefix optional.
func capabilities(h *Host, add, drop []string, privileged bool) ([]string, error) {
	all := h.hostCaps()
	if privileged {
		return slices.Clone(all), nil
	}
	adds, err := normalizeCaps(add, all)
	if err != nil {
		return nil, err
	}
	drops, err := normalizeCaps(drop, all)
	if err != nil {
		return nil, err
	}
	var base []string
	switch {
	case slices.Contains(adds, "ALL"):
		base, adds = all, nil
	case slices.Contains(drops, "ALL"):
		base = nil
	default:
		base = DefaultCapabilities()
	}
	// Drops apply to the base set only: a capability both dropped and
	// added is kept, as in Docker.
	var out []string
	for _, c := range base {
		if !slices.Contains(drops, c) {
			out = append(out, c)
		}
	}
	for _, c := range adds {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// normalizeCaps upper-cases names, adds the CAP_ prefix and refuses names
// the kernel does not know or the host cannot grant.
func normalizeCaps(names, available []string) ([]string, error) {
	known := knownCaps()
	var out []string
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		switch {
		case !slices.Contains(known, c):
			return nil, invalidf("unknown capability: %q", c)
		case !slices.Contains(available, c):
			return nil, invalidf("capability not supported by your kernel or not available in the current environment: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}
