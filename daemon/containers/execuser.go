package containers

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// lookupUserInRoot resolves an exec's --user ("uid[:gid]" or names) in
// the container's /etc/passwd and /etc/group, read inside its rootfs.
func lookupUserInRoot(rootfs, user string) (specs.User, error) {
	name, group, hasGroup := strings.Cut(user, ":")
	var u specs.User
	bad := func() (specs.User, error) {
		return specs.User{}, errorf(errdefs.ErrInvalidArgument, "unable to find user %s: no matching entries in passwd file", name)
	}
	if uid, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID, u.GID = uint32(uid), uint32(uid)
		if ent, ok := findEntry(rootfs, "etc/passwd", func(f []string) bool { return len(f) > 3 && f[2] == name }); ok {
			if gid, err := strconv.ParseUint(ent[3], 10, 32); err == nil {
				u.GID = uint32(gid)
			}
		}
	} else {
		ent, ok := findEntry(rootfs, "etc/passwd", func(f []string) bool { return len(f) > 3 && f[0] == name })
		if !ok {
			return bad()
		}
		uid, err1 := strconv.ParseUint(ent[2], 10, 32)
		gid, err2 := strconv.ParseUint(ent[3], 10, 32)
		if err1 != nil || err2 != nil {
			return bad()
		}
		u.UID, u.GID = uint32(uid), uint32(gid)
	}
	if hasGroup {
		if gid, err := strconv.ParseUint(group, 10, 32); err == nil {
			u.GID = uint32(gid)
		} else {
			ent, ok := findEntry(rootfs, "etc/group", func(f []string) bool { return len(f) > 2 && f[0] == group })
			if !ok {
				return specs.User{}, errorf(errdefs.ErrInvalidArgument, "unable to find group %s: no matching entries in group file", group)
			}
			gid, err := strconv.ParseUint(ent[2], 10, 32)
			if err != nil {
				return specs.User{}, errorf(errdefs.ErrInvalidArgument, "unable to find group %s: no matching entries in group file", group)
			}
			u.GID = uint32(gid)
		}
	}
	u.AdditionalGids = []uint32{u.GID}
	return u, nil
}

// findEntry finds a line of a colon-separated file inside rootfs; the
// file is opened within the rootfs, its symlinks unable to leave it.
func findEntry(rootfs, name string, match func([]string) bool) ([]string, bool) {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return nil, false
	}
	defer root.Close()
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	sc := bufio.NewScanner(io.LimitReader(f, 4<<20))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if match(fields) {
			return fields, true
		}
	}
	return nil, false
}
