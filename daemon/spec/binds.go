package spec

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bind is one -v/--volume entry ("[SRC:]DST[:MODE]") as Docker reads it on
// Linux. Source is an absolute host path (a bind), a volume name, or ""
// (an anonymous volume).
type Bind struct {
	Source, Destination string
	ReadOnly            bool
	Propagation         mount.Propagation
	NoCopy              bool
	// Volume is true when Source names a volume rather than a host path.
	Volume bool
}

// ParseBind parses a -v entry. MODE is a comma-separated list of at most one
// each of ro|rw, z|Z (SELinux relabelling, ignored by berth), a
// propagation (shared, slave, private and their r-forms), nocopy (volumes
// only) and a consistency (consistent, cached, delegated: ignored on Linux).
func ParseBind(raw string) (Bind, error) {
	var b Bind
	arr := strings.SplitN(raw, ":", 4)
	if arr[0] == "" {
		return b, invalidf("invalid volume specification: '%s'", raw)
	}
	mode := ""
	switch len(arr) {
	case 1:
		b.Destination = arr[0]
	case 2:
		if validBindMode(arr[1]) {
			// DST:MODE: a mode needs a source.
			return b, invalidf("invalid volume specification: '%s'", raw)
		}
		b.Source, b.Destination = arr[0], arr[1]
	case 3:
		b.Source, b.Destination, mode = arr[0], arr[1], arr[2]
	default:
		return b, invalidf("invalid volume specification: '%s'", raw)
	}
	if !validBindMode(mode) {
		return b, invalidf("invalid mode: %s", mode)
	}
	d, err := cleanDest(b.Destination)
	if err != nil {
		return b, invalidWrap(err, "invalid volume specification: '%s': %v", raw, err)
	}
	b.Destination = d
	b.Volume = !path.IsAbs(b.Source)
	hasCopyMode := false
	for _, o := range strings.Split(mode, ",") {
		switch o {
		case "ro":
			b.ReadOnly = true
		case "nocopy":
			b.NoCopy, hasCopyMode = true, true
		}
		if isPropagation(o) {
			b.Propagation = mount.Propagation(o)
		}
	}
	switch {
	case b.Volume && b.Propagation != "":
		return b, invalidf("invalid volume specification: '%s': invalid mount config for type \"volume\": field BindOptions must not be specified", raw)
	case !b.Volume && hasCopyMode:
		return b, invalidf("invalid volume specification: '%s': invalid mount config for type \"bind\": field VolumeOptions must not be specified", raw)
	case b.Volume && b.Source != "" && !ValidVolumeName(b.Source):
		return b, invalidf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", b.Source, b.Source)
	case b.Volume && b.Source == "" && b.ReadOnly:
		return b, invalidf("invalid volume specification: '%s': must not set ReadOnly mode when using anonymous volumes", raw)
	}
	if !b.Volume {
		b.Source = path.Clean(b.Source)
	}
	return b, nil
}

// parseBind turns a -v entry into a mount. A missing host source is
// recorded for the caller to create, as Docker creates it for -v.
func (b *builder) parseBind(raw string) (userMount, error) {
	p, err := ParseBind(raw)
	if err != nil {
		return userMount{}, err
	}
	prop := string(p.Propagation)
	if prop == "" {
		prop = string(mount.PropagationRPrivate)
	}
	if p.Volume {
		if b.o.volumes == nil {
			return userMount{}, noVolumes(p.Source, p.Destination)
		}
		return userMount{
			Mount:       bindMount(p.Destination, "", b.bindOptions(!p.ReadOnly, false, prop, mount.BindOptions{})),
			volume:      &volumeReq{name: p.Source, opts: &mount.VolumeOptions{NoCopy: p.NoCopy}},
			propagation: prop,
		}, nil
	}
	if _, err := b.o.host.stat(p.Source); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return userMount{}, invalidWrap(err, "invalid volume specification: '%s': %v", raw, err)
		}
		b.res.HostDirs = append(b.res.HostDirs, p.Source)
	}
	return userMount{
		Mount:       bindMount(p.Destination, p.Source, b.bindOptions(!p.ReadOnly, false, prop, mount.BindOptions{})),
		propagation: prop,
	}, nil
}

func bindMount(dest, src string, opts []string) specs.Mount {
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: opts}
}

func noVolumes(name, dest string) error {
	if name == "" {
		return notImplementedf("anonymous volume at %s: volumes are not supported yet", dest)
	}
	return notImplementedf("volume %q at %s: volumes are not supported yet", name, dest)
}

// validBindMode reports whether mode is a valid MODE (see ParseBind).
func validBindMode(mode string) bool {
	if mode == "" {
		return true
	}
	counts := map[string]int{}
	for _, o := range strings.Split(mode, ",") {
		kind := ""
		switch {
		case o == "ro" || o == "rw":
			kind = "rw"
		case o == "z" || o == "Z":
			kind = "label"
		case isPropagation(o):
			kind = "propagation"
		case o == "nocopy":
			kind = "copy"
		case o == "consistent" || o == "cached" || o == "delegated":
			kind = "consistency"
		default:
			return false
		}
		if counts[kind]++; counts[kind] > 1 {
			return false
		}
	}
	return true
}

func isPropagation(o string) bool {
	switch mount.Propagation(o) {
	case mount.PropagationShared, mount.PropagationRShared, mount.PropagationSlave,
		mount.PropagationRSlave, mount.PropagationPrivate, mount.PropagationRPrivate:
		return true
	}
	return false
}

// ValidVolumeName is the local volume driver's rule for names:
// [a-zA-Z0-9][a-zA-Z0-9_.-]+.
func ValidVolumeName(n string) bool {
	if len(n) < 2 {
		return false
	}
	for i, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i > 0 {
			ok = ok || c == '_' || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}
