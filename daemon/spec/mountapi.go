package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/moby/moby/api/types/mount"
)

// apiMount turns a --mount entry (HostConfig.Mounts) into a mount, with
// Docker's "invalid mount config" errors.
func (b *builder) apiMount(m mount.Mount) (userMount, error) {
	bad := func(format string, args ...any) error {
		return invalidf("invalid mount config for type %q: %s", m.Type, fmt.Sprintf(format, args...))
	}
	if m.Target == "" {
		return userMount{}, bad("field Target must not be empty")
	}
	dest, err := cleanDest(m.Target)
	if err != nil {
		return userMount{}, bad("%v", err)
	}
	switch m.Type {
	case mount.TypeBind:
		return b.apiBind(m, dest, bad)
	case mount.TypeTmpfs:
		switch {
		case m.Source != "":
			return userMount{}, bad("field Source must not be specified")
		case m.BindOptions != nil:
			return userMount{}, bad("field BindOptions must not be specified")
		case m.VolumeOptions != nil:
			return userMount{}, bad("field VolumeOptions must not be specified")
		case m.ImageOptions != nil:
			return userMount{}, bad("field ImageOptions must not be specified")
		}
		data, err := tmpfsData(m.TmpfsOptions, m.ReadOnly)
		if err != nil {
			return userMount{}, bad("%v", err)
		}
		tm, err := tmpfsMount(dest, data)
		if err != nil {
			return userMount{}, bad("%v", err)
		}
		return userMount{Mount: tm}, nil
	case mount.TypeVolume:
		switch {
		case m.BindOptions != nil:
			return userMount{}, bad("field BindOptions must not be specified")
		case m.TmpfsOptions != nil:
			return userMount{}, bad("field TmpfsOptions must not be specified")
		case m.ImageOptions != nil:
			return userMount{}, bad("field ImageOptions must not be specified")
		case m.Source == "" && m.ReadOnly:
			return userMount{}, bad("must not set ReadOnly mode when using anonymous volumes")
		case m.Source != "" && !ValidVolumeName(m.Source):
			return userMount{}, bad("%q includes invalid characters for a local volume name", m.Source)
		}
		if m.VolumeOptions != nil && m.VolumeOptions.Subpath != "" {
			if sp := m.VolumeOptions.Subpath; path.IsAbs(sp) || strings.Split(path.Clean(sp), "/")[0] == ".." {
				return userMount{}, bad("subpath must be a relative path within the volume")
			}
		}
		if b.o.volumes == nil {
			return userMount{}, noVolumes(m.Source, dest)
		}
		return userMount{
			Mount:       bindMount(dest, "", b.bindOptions(!m.ReadOnly, false, "rprivate", mount.BindOptions{})),
			volume:      &volumeReq{name: m.Source, opts: m.VolumeOptions},
			propagation: "rprivate",
		}, nil
	case mount.TypeImage:
		return userMount{}, notImplementedf("invalid mount config for type %q: image mounts are not supported yet", m.Type)
	}
	return userMount{}, bad("mount type unknown")
}

func (b *builder) apiBind(m mount.Mount, dest string, bad func(string, ...any) error) (userMount, error) {
	switch {
	case m.Source == "":
		return userMount{}, bad("field Source must not be empty")
	case m.VolumeOptions != nil:
		return userMount{}, bad("field VolumeOptions must not be specified")
	case m.TmpfsOptions != nil:
		return userMount{}, bad("field TmpfsOptions must not be specified")
	case m.ImageOptions != nil:
		return userMount{}, bad("field ImageOptions must not be specified")
	case !path.IsAbs(m.Source):
		return userMount{}, bad("invalid mount path: '%s' mount path must be absolute", m.Source)
	case strings.IndexByte(m.Source, 0) >= 0:
		return userMount{}, bad("invalid mount path: %q contains a NUL byte", m.Source)
	}
	var bo mount.BindOptions
	if m.BindOptions != nil {
		bo = *m.BindOptions
	}
	prop := string(bo.Propagation)
	if prop == "" {
		prop = string(mount.PropagationRPrivate)
	} else if !isPropagation(prop) {
		return userMount{}, bad("invalid propagation mode: %s", prop)
	}
	if bo.ReadOnlyNonRecursive && bo.ReadOnlyForceRecursive {
		return userMount{}, bad("mount options conflict: ReadOnlyNonRecursive && ReadOnlyForceRecursive")
	}
	if (bo.ReadOnlyNonRecursive || bo.ReadOnlyForceRecursive) && !m.ReadOnly {
		return userMount{}, bad("option ReadOnlyNonRecursive and ReadOnlyForceRecursive need ReadOnly")
	}
	if bo.ReadOnlyForceRecursive && (bo.NonRecursive || !b.o.host.RecursiveReadonly) {
		return userMount{}, bad("recursive read-only needs a recursive bind on a kernel with mount_setattr (Linux 5.12)")
	}
	src := path.Clean(m.Source)
	if _, err := b.o.host.stat(src); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return userMount{}, invalidWrap(err, "invalid mount config for type %q: %v", m.Type, err)
		}
		if !bo.CreateMountpoint {
			return userMount{}, bad("bind source path does not exist: %s", src)
		}
		b.res.HostDirs = append(b.res.HostDirs, src)
	}
	return userMount{
		Mount:       bindMount(dest, src, b.bindOptions(!m.ReadOnly, bo.NonRecursive, prop, bo)),
		propagation: prop,
	}, nil
}
