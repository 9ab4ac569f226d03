package container

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

type flagOpt struct {
	clear bool
	flag  uintptr
}

var mountFlagOpts = map[string]flagOpt{
	"async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME},
	"bind": {false, unix.MS_BIND}, "defaults": {false, 0}, "dev": {true, unix.MS_NODEV},
	"diratime": {true, unix.MS_NODIRATIME}, "dirsync": {false, unix.MS_DIRSYNC},
	"exec": {true, unix.MS_NOEXEC}, "iversion": {false, unix.MS_I_VERSION},
	"lazytime": {false, unix.MS_LAZYTIME}, "loud": {true, unix.MS_SILENT},
	"mand": {false, unix.MS_MANDLOCK}, "noatime": {false, unix.MS_NOATIME},
	"nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME},
	"noexec": {false, unix.MS_NOEXEC}, "noiversion": {true, unix.MS_I_VERSION},
	"nolazytime": {true, unix.MS_LAZYTIME}, "nomand": {true, unix.MS_MANDLOCK},
	"norelatime": {true, unix.MS_RELATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid": {false, unix.MS_NOSUID}, "nosymfollow": {false, unix.MS_NOSYMFOLLOW},
	"rbind": {false, unix.MS_BIND | unix.MS_REC}, "relatime": {false, unix.MS_RELATIME},
	"remount": {false, unix.MS_REMOUNT}, "ro": {false, unix.MS_RDONLY},
	"rw": {true, unix.MS_RDONLY}, "silent": {false, unix.MS_SILENT},
	"strictatime": {false, unix.MS_STRICTATIME}, "suid": {true, unix.MS_NOSUID},
	"sync": {false, unix.MS_SYNCHRONOUS}, "symfollow": {true, unix.MS_NOSYMFOLLOW},
}

var propagationOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "shared": unix.MS_SHARED, "slave": unix.MS_SLAVE, "unbindable": unix.MS_UNBINDABLE,
	"rprivate": unix.MS_PRIVATE | unix.MS_REC, "rshared": unix.MS_SHARED | unix.MS_REC,
	"rslave": unix.MS_SLAVE | unix.MS_REC, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type attrOpt struct {
	set, clr uint64
}

// Recursive mount attributes (runtime-spec 1.1), applied with mount_setattr.
var recursiveOpts = map[string]attrOpt{
	"rro": {unix.MOUNT_ATTR_RDONLY, 0}, "rrw": {0, unix.MOUNT_ATTR_RDONLY},
	"rnosuid": {unix.MOUNT_ATTR_NOSUID, 0}, "rsuid": {0, unix.MOUNT_ATTR_NOSUID},
	"rnodev": {unix.MOUNT_ATTR_NODEV, 0}, "rdev": {0, unix.MOUNT_ATTR_NODEV},
	"rnoexec": {unix.MOUNT_ATTR_NOEXEC, 0}, "rexec": {0, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {unix.MOUNT_ATTR_NODIRATIME, 0}, "rdiratime": {0, unix.MOUNT_ATTR_NODIRATIME},
	"rrelatime": {unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME}, "rnorelatime": {0, unix.MOUNT_ATTR__ATIME},
	"rnoatime": {unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME}, "ratime": {0, unix.MOUNT_ATTR__ATIME},
	"rstrictatime": {unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME}, "rnostrictatime": {0, unix.MOUNT_ATTR__ATIME},
	"rnosymfollow": {unix.MOUNT_ATTR_NOSYMFOLLOW, 0}, "rsymfollow": {0, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// mountOpts is a parsed mount options list.
type mountOpts struct {
	flags       uintptr
	propagation []uintptr
	attr        attrOpt
	data        []string
	copyUp      bool
}

func parseMountOptions(opts []string) (mountOpts, error) {
	var m mountOpts
	for _, o := range opts {
		if f, ok := mountFlagOpts[o]; ok {
			if f.clear {
				m.flags &^= f.flag
			} else {
				m.flags |= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[o]; ok {
			m.propagation = append(m.propagation, p)
			continue
		}
		if a, ok := recursiveOpts[o]; ok {
			m.attr.set |= a.set
			m.attr.clr |= a.clr
			continue
		}
		switch o {
		case "tmpcopyup":
			m.copyUp = true
			continue
		case "idmap", "ridmap":
			return m, fmt.Errorf("mount option %q is not supported yet", o)
		}
		m.data = append(m.data, o)
	}
	return m, nil
}

func (m mountOpts) dataString() string { return strings.Join(m.data, ",") }

// MountOptionNames lists the mount options the runtime understands, for `features`.
func MountOptionNames() []string {
	var out []string
	for k := range mountFlagOpts {
		out = append(out, k)
	}
	for k := range propagationOpts {
		out = append(out, k)
	}
	for k := range recursiveOpts {
		out = append(out, k)
	}
	return append(out, "tmpcopyup")
}
