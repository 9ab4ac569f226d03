package cgroups

import (
	"errors"
	"fmt"
	"time"
)

// Freezer states, as v1 freezer.state spells them.
const (
	Thawed   = "THAWED"
	Freezing = "FREEZING"
	Frozen   = "FROZEN"
)

// freezeTimeout bounds the wait for a cgroup to freeze: tasks in
// uninterruptible sleep (D state) can hold it in FREEZING.
const freezeTimeout = 2 * time.Second

// freezer says where the freezer is: v1 freezer.state if the controller is
// mounted, else cgroup.freeze of the unified hierarchy (v2 and hybrid).
func (m *manager) freezer() (dir string, v2 bool, err error) {
	if h, ok := m.v1["freezer"]; ok {
		return h.dir, false, nil
	}
	if m.v2.dir != "" {
		return m.v2.dir, true, nil
	}
	return "", false, fmt.Errorf("freezer cgroup controller is not mounted under %s", m.root)
}

// FreezerStateOf reads the freezer state of a cgroup from its persisted
// paths (Manager.Paths) alone, without reading the mount table as Load
// does: every runtime command that derives a container's status reads it.
func FreezerStateOf(paths map[string]string) (string, error) {
	if dir, ok := paths["freezer"]; ok {
		return freezerState(dir, false)
	}
	if dir, ok := paths[""]; ok {
		return freezerState(dir, true)
	}
	return "", errors.New("freezer cgroup controller is not mounted")
}

func (m *manager) Freeze() error { return m.freeze(true) }
func (m *manager) Thaw() error   { return m.freeze(false) }

func (m *manager) freeze(on bool) error {
	dir, v2, err := m.freezer()
	if err != nil {
		return err
	}
	want, value := Thawed, Thawed
	if on {
		want, value = Frozen, Frozen
	}
	if v2 {
		value = "0"
		if on {
			value = "1"
		}
	}
	if err := writeFile(dir, stateFile(v2), value); err != nil {
		return err
	}
	delay := 100 * time.Microsecond
	deadline := time.Now().Add(freezeTimeout)
	for {
		state, err := freezerState(dir, v2)
		if err != nil {
			return err
		}
		if state == want {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		if !v2 && on {
			// v1 moves on from FREEZING only when asked again.
			if err := writeFile(dir, "freezer.state", Frozen); err != nil {
				return err
			}
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
	if on { // do not leave the container half frozen
		thaw := Thawed
		if v2 {
			thaw = "0"
		}
		_ = writeFile(dir, stateFile(v2), thaw)
	}
	return fmt.Errorf("set freezer state of %s to %s: timed out after %s", dir, want, freezeTimeout)
}

func stateFile(v2 bool) string {
	if v2 {
		return "cgroup.freeze"
	}
	return "freezer.state"
}

func (m *manager) FreezerState() (string, error) {
	dir, v2, err := m.freezer()
	if err != nil {
		return "", err
	}
	return freezerState(dir, v2)
}

// freezerState reads v1 freezer.state, or on v2 the request in cgroup.freeze
// and the outcome in the "frozen" key of cgroup.events.
func freezerState(dir string, v2 bool) (string, error) {
	if !v2 {
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			return "", fmt.Errorf("read freezer state: %w", err)
		}
		return s, nil
	}
	req, err := readFile(dir, "cgroup.freeze")
	if err != nil {
		return "", fmt.Errorf("read freezer state: %w", err)
	}
	if req == "0" {
		return Thawed, nil
	}
	ev, err := readKV(dir, "cgroup.events")
	if err != nil {
		return "", fmt.Errorf("read freezer state: %w", err)
	}
	if ev["frozen"] == 1 {
		return Frozen, nil
	}
	if req != "1" {
		return "", fmt.Errorf("read freezer state: unexpected cgroup.freeze value %q in %s", req, dir)
	}
	return Freezing, nil
}
