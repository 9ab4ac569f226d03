package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func (m *manager) Apply(pid int) error { return m.apply(m.dirs(), pid) }

func (m *manager) Create(unified bool) error {
	var hs []hier
	for _, h := range m.dirs() {
		if (h == m.v2) == unified {
			hs = append(hs, h)
		}
	}
	return m.apply(hs, 0)
}

func (m *manager) apply(hs []hier, pid int) (err error) {
	var created []string
	defer func() {
		if err != nil { // undo: deepest first; a dir holding pid stays (EBUSY) for Destroy
			for i := len(created) - 1; i >= 0; i-- {
				_ = unix.Rmdir(created[i])
			}
		}
	}()
	for _, h := range hs {
		made, err := mkdirs(h.mount, h.dir)
		created = append(created, made...)
		if err != nil {
			return err
		}
		if h == m.v2 {
			if err := enableControllers(h); err != nil {
				return err
			}
		} else if m.isCpuset(h) {
			if err := inheritCpuset(h, made); err != nil {
				return err
			}
		}
		if pid > 0 {
			if err := addProc(h.dir, pid); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *manager) isCpuset(h hier) bool {
	c, ok := m.v1["cpuset"]
	return ok && c.dir == h.dir
}

// mkdirs creates dir and its missing parents below mount with plain mkdir(2)
// calls, from dir upwards only as far as needed, and returns the directories
// it created, parents first.
func mkdirs(mount, dir string) ([]string, error) {
	err := unix.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return []string{dir}, nil
	case err == unix.EEXIST:
		return nil, nil
	case err == unix.ENOENT && dir != mount && strings.HasPrefix(dir, mount+"/"):
		made, err := mkdirs(mount, filepath.Dir(dir))
		if err != nil {
			return made, err
		}
		if err := unix.Mkdir(dir, 0o755); err != nil && err != unix.EEXIST {
			return made, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		return append(made, dir), nil
	default:
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
}

// addProc moves pid into the cgroup. EINVAL can mean the task is still being
// forked (TASK_NEW), so it is retried a few times.
func addProc(dir string, pid int) error {
	var err error
	for i := 0; i < 5; i++ {
		if err = writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); !errors.Is(err, unix.EINVAL) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("move process %d into cgroup: %w", pid, err)
	}
	return nil
}

// inheritCpuset fills empty cpuset.cpus and cpuset.mems on the way down from
// the mount to the container's cgroup, each from its parent. A new v1 cpuset
// starts empty, and a task cannot join a cpuset without CPUs or memory nodes
// (ENOSPC), which is the classic v1 pitfall. Levels created just now are
// known to be empty and are not read; the mount root is read only if needed.
func inheritCpuset(h hier, created []string) error {
	isNew := make(map[string]bool, len(created))
	for _, d := range created {
		isNew[d] = true
	}
	rel, err := filepath.Rel(h.mount, h.dir)
	if err != nil {
		return err
	}
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		parent, value := h.mount, ""
		cur := h.mount
		for _, elem := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, elem)
			if !isNew[cur] {
				v, err := readFile(cur, file)
				if err != nil {
					return fmt.Errorf("inherit %s: %w", file, err)
				}
				if v != "" {
					parent, value = cur, v
					continue
				}
			}
			if value == "" {
				if value, err = readFile(parent, file); err != nil {
					return fmt.Errorf("inherit %s: %w", file, err)
				}
			}
			if err := writeFile(cur, file, value); err != nil {
				return err
			}
			parent = cur
		}
	}
	return nil
}

// enableControllers writes every controller the unified hierarchy offers
// into cgroup.subtree_control of each ancestor of the container's cgroup, so
// that its interface files (memory.max, ...) exist in the leaf. A level that
// refuses the whole set (a controller it lacks, or processes in a non-root
// cgroup) gets them one by one, and the ones it still refuses are left out:
// Set reports a controller it then needs and cannot find.
func enableControllers(h hier) error {
	avail, err := readFile(h.mount, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("enable cgroup controllers: %w", err)
	}
	ctrls := strings.Fields(avail)
	if len(ctrls) == 0 {
		return nil
	}
	all := "+" + strings.Join(ctrls, " +")
	rel, err := filepath.Rel(h.mount, h.dir)
	if err != nil {
		return err
	}
	cur := h.mount
	for _, elem := range strings.Split(rel, "/") {
		if err := writeFile(cur, "cgroup.subtree_control", all); err != nil {
			for _, c := range ctrls {
				_ = writeFile(cur, "cgroup.subtree_control", "+"+c)
			}
		}
		cur = filepath.Join(cur, elem)
	}
	return nil
}
