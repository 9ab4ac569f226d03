package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Manager is the cgroup of one container across every mounted hierarchy.
type Manager interface {
	// Apply creates the cgroup in every hierarchy and moves pid into it
	// (pid <= 0 only creates). On v2 it first enables, in each ancestor's
	// cgroup.subtree_control, the controllers the hierarchy offers. On
	// error, the caller kills pid and calls Destroy.
	Apply(pid int) error
	// Create creates the cgroup in the unified hierarchy only (unified)
	// or in the v1 hierarchies only, as Apply(0) does: a process can be
	// cloned into the unified one (CLONE_INTO_CGROUP) while the v1 ones
	// are made, and move itself into those.
	Create(unified bool) error
	// Set writes the limits of r; nil fields are left alone.
	Set(r *specs.LinuxResources) error
	// Freeze stops every process of the cgroup and waits until it is frozen.
	Freeze() error
	// Thaw resumes the processes.
	Thaw() error
	// FreezerState is "THAWED", "FREEZING" or "FROZEN".
	FreezerState() (string, error)
	// Stats reads usage counters, shaped as runc's `events --stats` data.
	Stats() (*Stats, error)
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Exists reports whether the cgroup directory exists in any hierarchy.
	Exists() bool
	// Destroy removes the cgroup (and cgroups created inside it) from every
	// hierarchy, retrying briefly while exiting processes leave; it
	// succeeds if the cgroup is already gone.
	Destroy() error
	// Paths maps each hierarchy (v1 controller name, "name=systemd", or ""
	// for the unified hierarchy) to the container's directory in it, to be
	// kept in the container state and handed to Load later.
	Paths() map[string]string
	// OOMKillCount is how many processes the OOM killer killed in the cgroup.
	OOMKillCount() (uint64, error)
}

var _ Manager = (*manager)(nil)

// hier is the container's cgroup in one hierarchy.
type hier struct {
	mount string // mount point of the hierarchy
	dir   string // the container's directory, below mount
}

type manager struct {
	root string          // cgroupfs root, for messages
	mode string          // V1, V2 or Hybrid
	v1   map[string]hier // v1 controller or "name=xxx" → cgroup
	v2   hier            // the unified hierarchy; dir == "" if not mounted

	// attachDevices installs the v2 device filter; a test double replaces it.
	attachDevices func(dir string, prog []insn) error
}

func newManager(root, mode string) *manager {
	return &manager{root: root, mode: mode, v1: make(map[string]hier), attachDevices: attachDeviceFilter}
}

// dirs lists each distinct cgroup directory once (v1 controllers that are
// co-mounted share one), v1 ones sorted, the unified one last.
func (m *manager) dirs() []hier {
	seen := make(map[string]bool)
	var out []hier
	for _, k := range m.v1Keys() {
		h := m.v1[k]
		if !seen[h.dir] {
			seen[h.dir] = true
			out = append(out, h)
		}
	}
	if m.v2.dir != "" {
		out = append(out, m.v2)
	}
	return out
}

func (m *manager) v1Keys() []string {
	keys := make([]string, 0, len(m.v1))
	for k := range m.v1 {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// controller says where ctrl's files live: its v1 hierarchy if it is mounted
// as one, else the unified hierarchy (v2 semantics). It fails only when
// neither exists; a unified hierarchy without the controller shows up as a
// missing file when written (see unavailable).
func (m *manager) controller(ctrl string) (dir string, v2 bool, err error) {
	if h, ok := m.v1[ctrl]; ok {
		return h.dir, false, nil
	}
	if m.v2.dir != "" {
		return m.v2.dir, true, nil
	}
	return "", false, fmt.Errorf("%s cgroup controller is not mounted under %s", ctrl, m.root)
}

// unavailable explains a missing v2 interface file: the controller is not
// enabled for the cgroup (or the kernel lacks it).
func unavailable(ctrl string, err error) error {
	if notExist(err) {
		return fmt.Errorf("%s cgroup controller is not available: %w", ctrl, err)
	}
	return err
}

func (m *manager) Paths() map[string]string {
	p := make(map[string]string, len(m.v1)+1)
	for k, h := range m.v1 {
		p[k] = h.dir
	}
	if m.v2.dir != "" {
		p[""] = m.v2.dir
	}
	return p
}

func (m *manager) Exists() bool {
	for _, h := range m.dirs() {
		if _, err := os.Stat(h.dir); err == nil {
			return true
		}
	}
	return false
}

// procsDir picks the hierarchy Pids reads: the unified one on v2, else a v1
// hierarchy every container joins.
func (m *manager) procsDir() (string, error) {
	if m.mode == V2 {
		return m.v2.dir, nil
	}
	for _, c := range []string{"pids", "freezer", "memory", "cpu", "devices", "name=systemd"} {
		if h, ok := m.v1[c]; ok {
			return h.dir, nil
		}
	}
	if d := m.dirs(); len(d) > 0 {
		return d[0].dir, nil
	}
	return "", errors.New("no cgroup hierarchy")
}

func (m *manager) Pids() ([]int, error) {
	dir, err := m.procsDir()
	if err != nil {
		return nil, err
	}
	seen := make(map[int]bool)
	var pids []int
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p != dir && notExist(err) { // a sub-cgroup went away meanwhile
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			if p != dir && notExist(err) {
				return nil
			}
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("parse cgroup.procs in %s: %w", p, err)
			}
			if !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list processes of cgroup %s: %w", dir, err)
	}
	return pids, nil
}

func (m *manager) Destroy() error {
	var errs []error
	for _, h := range m.dirs() {
		if err := removeCgroup(h.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroup removes dir and the cgroups below it. rmdir fails with EBUSY
// while a cgroup has children or (exiting) tasks: children are removed
// first, deepest first, and tasks are waited for, for up to about half a
// second. The directory is not listed unless rmdir says it has to be.
func removeCgroup(dir string) error {
	delay := time.Millisecond
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		// ENOTEMPTY: what a plain directory says; cgroupfs says EBUSY.
		if (err != unix.EBUSY && err != unix.ENOTEMPTY) || i == 10 {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		if i == 0 {
			had, err := removeChildren(dir)
			if err != nil {
				return err
			}
			if had {
				continue
			}
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// removeChildren removes the cgroups directly below dir and reports whether
// there were any.
func removeChildren(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, skipMissing(err)
	}
	had := false
	for _, e := range ents {
		if e.IsDir() {
			had = true
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return had, err
			}
		}
	}
	return had, nil
}
