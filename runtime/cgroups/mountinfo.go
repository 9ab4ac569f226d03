package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Layouts reported by Mode.
const (
	V1     = "v1"     // only cgroup v1 hierarchies
	V2     = "v2"     // one cgroup2 hierarchy (the unified hierarchy)
	Hybrid = "hybrid" // v1 controllers plus a cgroup2 mount (usually <root>/unified)
)

// isV1Controller reports whether a super option of a cgroup v1 mount names a
// controller; other options (rw, xattr, clone_children, ...) do not. Named
// hierarchies ("name=systemd") are recognised separately.
func isV1Controller(opt string) bool {
	switch opt {
	case "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer",
		"net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc":
		return true
	}
	return false
}

// mount is one cgroup hierarchy as seen in mountinfo.
type mount struct {
	dir  string // mount point
	root string // root of the mount within the hierarchy (field 4), "/" normally
}

// layout is where each hierarchy is mounted under the cgroupfs root.
type layout struct {
	v1      map[string]mount // controller or "name=xxx" → mount
	unified *mount           // the cgroup2 mount, nil if none
}

func (l *layout) mode() string {
	hasV1 := false
	for k := range l.v1 {
		if isV1Controller(k) {
			hasV1 = true
			break
		}
	}
	switch {
	case hasV1 && l.unified != nil:
		return Hybrid
	case hasV1:
		return V1
	default:
		return V2
	}
}

// Mode reports the cgroup layout of the cgroupfs mounted under root, as
// described by the mountinfo file ("" = "/sys/fs/cgroup" and
// "/proc/self/mountinfo").
func Mode(root, mountinfo string) (string, error) {
	l, err := detect(root, mountinfo)
	if err != nil {
		return "", err
	}
	return l.mode(), nil
}

// detect reads mountinfo once and keeps the cgroup mounts at or below root.
func detect(root, mountinfo string) (*layout, error) {
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	if mountinfo == "" {
		mountinfo = "/proc/self/mountinfo"
	}
	data, err := os.ReadFile(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("detect cgroup layout: %w", err)
	}
	l, err := parseMountinfo(string(data), filepath.Clean(root))
	if err != nil {
		return nil, fmt.Errorf("detect cgroup layout from %s: %w", mountinfo, err)
	}
	return l, nil
}

func parseMountinfo(data, root string) (*layout, error) {
	type entry struct {
		m       mount
		fstype  string
		options string
	}
	var mounts []entry
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(pre)
		g := strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		dir := unescapeMount(f[4])
		// A later mount on dir hides every earlier mount at or below it.
		kept := mounts[:0]
		for _, e := range mounts {
			if e.m.dir != dir && !strings.HasPrefix(e.m.dir, dir+"/") {
				kept = append(kept, e)
			}
		}
		mounts = kept
		if g[0] != "cgroup" && g[0] != "cgroup2" {
			continue
		}
		if dir != root && !strings.HasPrefix(dir, root+"/") {
			continue
		}
		mounts = append(mounts, entry{mount{dir, unescapeMount(f[3])}, g[0], g[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	l := &layout{v1: make(map[string]mount)}
	for _, e := range mounts {
		if e.fstype == "cgroup2" {
			if l.unified == nil {
				m := e.m
				l.unified = &m
			}
			continue
		}
		for _, opt := range strings.Split(e.options, ",") {
			if isV1Controller(opt) || strings.HasPrefix(opt, "name=") {
				if _, dup := l.v1[opt]; !dup {
					l.v1[opt] = e.m
				}
			}
		}
	}
	if l.unified == nil && l.mode() != V1 {
		return nil, fmt.Errorf("no cgroup controller is mounted under %s", root)
	}
	if l.mode() == V2 {
		// Named v1 hierarchies next to a pure cgroup2 tree are not ours to manage.
		l.v1 = map[string]mount{}
	}
	return l, nil
}

// unescapeMount decodes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}
