package spec

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDeviceRules are the device cgroup's: deny everything, then allow
// creating any node (mknod is harmless when opening is denied) and using
// null, zero, full, random, urandom, tty, console, ptmx and the ptys.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	rule := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: access}
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		rule("c", -1, -1, "m"),
		rule("b", -1, -1, "m"),
		rule("c", 1, 3, "rwm"),    // null
		rule("c", 1, 5, "rwm"),    // zero
		rule("c", 1, 7, "rwm"),    // full
		rule("c", 1, 8, "rwm"),    // random
		rule("c", 1, 9, "rwm"),    // urandom
		rule("c", 5, 0, "rwm"),    // tty
		rule("c", 5, 1, "rwm"),    // console
		rule("c", 5, 2, "rwm"),    // ptmx
		rule("c", 136, -1, "rwm"), // pts/*
	}
}

// devices adds --device nodes and --device-cgroup-rule entries; privileged
// containers get every host device and no device cgroup restriction.
func (b *builder) devices() error {
	var devs []specs.LinuxDevice
	rules := defaultDeviceRules()
	if b.hc.Privileged {
		host, err := b.o.host.devices("/dev")
		if err != nil {
			return err
		}
		devs = host
		rules = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	for _, d := range b.hc.Devices {
		if b.hc.Privileged && (d.PathInContainer == "" || d.PathInContainer == d.PathOnHost) {
			continue // already there
		}
		mapped, perm, err := b.mapDevice(d.PathOnHost, d.PathInContainer, d.CgroupPermissions)
		if err != nil {
			return err
		}
		devs = append(devs, mapped...)
		if !b.hc.Privileged {
			for _, m := range mapped {
				major, minor := m.Major, m.Minor
				rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: m.Type, Major: &major, Minor: &minor, Access: perm})
			}
		}
	}
	if !b.hc.Privileged {
		for _, r := range b.hc.DeviceCgroupRules {
			rule, err := parseDeviceCgroupRule(r)
			if err != nil {
				return err
			}
			rules = append(rules, rule)
		}
	}
	if len(b.hc.DeviceRequests) > 0 {
		r := b.hc.DeviceRequests[0]
		return invalidf("could not select device driver %q with capabilities: %v", r.Driver, r.Capabilities)
	}
	b.s.Linux.Devices = devs
	b.s.Linux.Resources.Devices = rules
	return nil
}

// mapDevice resolves a --device: one node, or every node under a
// directory, renamed from host to container path.
func (b *builder) mapDevice(host, ctr, perm string) ([]specs.LinuxDevice, string, error) {
	if perm == "" {
		perm = "rwm"
	}
	if len(perm) > 3 || strings.Trim(perm, "rwm") != "" {
		return nil, "", invalidf("invalid device mode: %s", perm)
	}
	if !path.IsAbs(host) {
		return nil, "", invalidf("invalid device path: %s: must be absolute", host)
	}
	if ctr == "" {
		ctr = host
	}
	ctr, err := cleanDest(ctr)
	if err != nil {
		return nil, "", invalidWrap(err, "invalid device %s: %v", host, err)
	}
	found, err := b.o.host.devices(path.Clean(host))
	if err != nil {
		return nil, "", invalidWrap(err, "error gathering device information while adding custom device %q: %v", host, err)
	}
	if len(found) == 0 {
		return nil, "", invalidf("error gathering device information while adding custom device %q: not a device node", host)
	}
	hostRoot := path.Clean(host)
	var out []specs.LinuxDevice
	for _, d := range found {
		rel := strings.TrimPrefix(d.Path, hostRoot)
		d.Path = ctr + rel
		out = append(out, d)
	}
	return out, perm, nil
}

// parseDeviceCgroupRule reads "TYPE MAJOR:MINOR ACCESS" (TYPE a, b or c;
// numbers or *; access of r, w, m), or "a" for everything.
func parseDeviceCgroupRule(r string) (specs.LinuxDeviceCgroup, error) {
	bad := invalidf("invalid device cgroup rule format: '%s'", r)
	rule := r
	if rule == "a" {
		rule = "a *:* rwm"
	}
	f := strings.Split(rule, " ")
	if len(f) != 3 {
		return specs.LinuxDeviceCgroup{}, bad
	}
	typ, numbers, access := f[0], f[1], f[2]
	if typ != "a" && typ != "b" && typ != "c" {
		return specs.LinuxDeviceCgroup{}, bad
	}
	if access == "" || len(access) > 3 || strings.Trim(access, "rwm") != "" {
		return specs.LinuxDeviceCgroup{}, bad
	}
	ma, mi, ok := strings.Cut(numbers, ":")
	if !ok {
		return specs.LinuxDeviceCgroup{}, bad
	}
	num := func(s string) (*int64, bool) {
		if s == "*" {
			n := int64(-1)
			return &n, true
		}
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return nil, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1<<32-1 {
			return nil, false
		}
		return &n, true
	}
	major, ok1 := num(ma)
	minor, ok2 := num(mi)
	if !ok1 || !ok2 {
		return specs.LinuxDeviceCgroup{}, bad
	}
	return specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: major, Minor: minor, Access: access}, nil
}

// DeviceNodes lists the device nodes at p (following a symlink there) or
// under it when it is a directory, with host paths. Under /dev it skips
// what every container gets of its own: pts, shm, mqueue and console.
func DeviceNodes(p string) ([]specs.LinuxDevice, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		d, ok, err := deviceAt(p)
		if err != nil || !ok {
			return nil, err
		}
		return []specs.LinuxDevice{d}, nil
	}
	var out []specs.LinuxDevice
	err = filepath.WalkDir(p, func(q string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		if e.IsDir() {
			switch e.Name() {
			case "pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev":
				if q != p {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if e.Name() == "console" || e.Type()&fs.ModeDevice == 0 {
			return nil
		}
		d, ok, err := deviceAt(q)
		if err == nil && ok {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

func deviceAt(p string) (specs.LinuxDevice, bool, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return specs.LinuxDevice{}, false, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	typ := ""
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, false, nil
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: p, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, true, nil
}
