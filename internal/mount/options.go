package mount

import (
	"strings"

	"golang.org/x/sys/unix"
)

// flagBit is a mount(2) flag an option sets or, when clear is true, clears.
type flagBit struct {
	clear bool
	flag  uintptr
}

// flagOptions are the options that map to mount(2) flags; the names are
// those of mount(8). Read-only after initialisation.
var flagOptions = map[string]flagBit{
	"defaults": {false, 0},
	"ro":       {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC},
	"noatime": {false, unix.MS_NOATIME}, "atime": {true, unix.MS_NOATIME},
	"nodiratime": {false, unix.MS_NODIRATIME}, "diratime": {true, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"nosymfollow": {false, unix.MS_NOSYMFOLLOW}, "symfollow": {true, unix.MS_NOSYMFOLLOW},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
}

// propagationOptions change a mount's propagation type after it is made.
var propagationOptions = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// options is a parsed option list: flags for mount(2), propagation changes to
// apply afterwards, and the filesystem-specific rest ("key" or "key=value").
type options struct {
	flags       uintptr
	propagation []uintptr
	data        []string
}

func parseOptions(list []string) options {
	var o options
	for _, opt := range list {
		if f, ok := flagOptions[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
			} else {
				o.flags |= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		o.data = append(o.data, opt)
	}
	return o
}

func (o options) dataString() string { return strings.Join(o.data, ",") }

// mountAttr translates the per-mount flags into MOUNT_ATTR_* bits, for
// fsmount(2) and mount_setattr(2).
func (o options) mountAttr() uint64 {
	var a uint64
	for _, m := range []struct {
		flag uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		if o.flags&m.flag != 0 {
			a |= m.attr
		}
	}
	switch {
	case o.flags&unix.MS_NOATIME != 0:
		a |= unix.MOUNT_ATTR_NOATIME
	case o.flags&unix.MS_STRICTATIME != 0:
		a |= unix.MOUNT_ATTR_STRICTATIME
	}
	return a
}
