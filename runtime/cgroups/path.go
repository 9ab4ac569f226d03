package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"strings"
)

// cgroupPath turns Options.Path into a clean cgroup path. rel reports whether
// the path is relative to the runtime's own cgroup (then it has no leading
// "/"); otherwise it is absolute within every hierarchy.
//
//	"/a/b"                      → "/a/b"
//	"a/b"                       → "a/b" under the runtime's own cgroup
//	""                          → "<ID>" under the runtime's own cgroup (as runc)
//	"system.slice:docker:abc"   → "/system.slice/docker-abc.scope"
//
// ".." cannot climb above the hierarchy root (absolute) or above the
// runtime's cgroup (relative): the path is cleaned as if rooted first.
func cgroupPath(p, id string) (cg string, rel bool, err error) {
	switch {
	case p == "":
		if err := checkName(id); err != nil {
			return "", false, fmt.Errorf("empty cgroupsPath needs a container id: %w", err)
		}
		return id, true, nil
	case strings.HasPrefix(p, "/"):
		cg = path.Clean(p)
		if cg == "/" {
			return "", false, fmt.Errorf("cgroupsPath %q is the root cgroup", p)
		}
		return cg, false, nil
	case strings.Count(p, ":") == 2:
		cg, err = systemdPath(p)
		return cg, false, err
	default:
		cg = path.Clean("/" + p)[1:]
		if cg == "" {
			return "", false, fmt.Errorf("cgroupsPath %q is the runtime's own cgroup", p)
		}
		return cg, true, nil
	}
}

// checkName accepts a single path element.
func checkName(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("invalid name %q", s)
	}
	return nil
}

// systemdPath translates the "slice:prefix:name" syntax that engines pass
// when configured for systemd into the directory systemd would use for the
// unit: the slice expanded into its parents ("a-b.slice" lives in
// "/a.slice/a-b.slice") and the scope named "<prefix>-<name>.scope".
// An empty slice means "system.slice".
func systemdPath(p string) (string, error) {
	parts := strings.Split(p, ":")
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	dir, err := expandSlice(slice)
	if err != nil {
		return "", fmt.Errorf("systemd cgroupsPath %q: %w", p, err)
	}
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("systemd cgroupsPath %q: unit %w", p, err)
	}
	if strings.HasSuffix(name, ".slice") {
		return "", fmt.Errorf("systemd cgroupsPath %q: a slice as the container unit is not supported", p)
	}
	if strings.Contains(prefix, "/") {
		return "", fmt.Errorf("systemd cgroupsPath %q: invalid prefix %q", p, prefix)
	}
	unit := name + ".scope"
	if prefix != "" {
		unit = prefix + "-" + unit
	}
	return path.Join(dir, unit), nil
}

// expandSlice follows systemd.slice(5): dashes in a slice name separate its
// parents, and "-.slice" is the root slice.
func expandSlice(slice string) (string, error) {
	stem, ok := strings.CutSuffix(slice, ".slice")
	if !ok || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid slice name %q", slice)
	}
	if stem == "-" {
		return "/", nil
	}
	if stem == "" || strings.HasPrefix(stem, "-") || strings.HasSuffix(stem, "-") || strings.Contains(stem, "--") {
		return "", fmt.Errorf("invalid slice name %q", slice)
	}
	var b strings.Builder
	for i := range stem {
		if stem[i] == '-' {
			b.WriteString("/" + stem[:i] + ".slice")
		}
	}
	b.WriteString("/" + slice)
	return b.String(), nil
}

// ownCgroups parses /proc/self/cgroup: hierarchy key ("memory",
// "name=systemd", "" for cgroup2) → the runtime's own cgroup path.
func ownCgroups(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	defer f.Close()
	own := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 4:memory:/a/b   or   0::/a/b
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read own cgroup from %s: %w", file, err)
	}
	return own, nil
}

// hierarchyDir is the directory of cgroup cg in the hierarchy mounted at m.
// A relative cg is placed under own (the runtime's cgroup in that
// hierarchy), from which the mount's root is stripped first: a cgroupfs
// mounted with root "/docker/x" shows "/docker/x/foo" at "<mount>/foo".
func hierarchyDir(m mount, cg string, rel bool, own string) string {
	if rel {
		if m.root != "/" {
			if s, ok := strings.CutPrefix(own, m.root); ok && (s == "" || s[0] == '/') {
				own = s
			}
		}
		cg = path.Join("/", own, cg)
	}
	return path.Join(m.dir, cg)
}
