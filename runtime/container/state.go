package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/cgroups"
	"github.com/berth-dev/berth/runtime/spec"
)

// Statuses of a container, as the OCI runtime spec names them.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// Container is a container's persisted state plus its state directory.
type Container struct {
	ID          string            `json:"id"`
	InitPid     int               `json:"initPid"`
	InitStart   uint64            `json:"initStart"` // start time of init in clock ticks, against pid reuse
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	CgroupRoot  string            `json:"cgroupRoot,omitempty"`
	Spec        *specs.Spec       `json:"spec"`

	dir string
	// seccompJSON is linux.seccomp as LoadForExec found it, not decoded
	// yet (Spec.Linux.Seccomp is nil until execSeccomp decodes it).
	seccompJSON json.RawMessage
	// cg is the cgroup manager of the process that created the container
	// (run deletes it too); others load one from CgroupPaths.
	cg cgroups.Manager
}

// ValidateID checks a container id as runc does: letters, digits, "_+-.".
func ValidateID(id string) error {
	if id == "" {
		return classf(errdefs.ErrInvalidArgument, "container id is empty")
	}
	if !validIDChars(id) || id == "." || id == ".." || len(id) > 1024 {
		return classf(errdefs.ErrInvalidArgument, "invalid container id %q", id)
	}
	return nil
}

// validIDChars reports whether id holds only letters, digits and "_+-.".
// (A hand-written check: a package-level regexp would be compiled at every
// start of the runtime, including each container's init.)
func validIDChars(id string) bool {
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '+', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// Load reads the state of container id under root.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, classf(errdefs.ErrNotFound, "container %s does not exist", id)
		}
		return nil, fmt.Errorf("load container %s: %w", id, err)
	}
	var st stateJSON
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("load container %s: decode %s: %w", id, stateFile, err)
	}
	c := st.Container
	c.Spec = st.Spec.Spec()
	c.dir = dir
	return &c, nil
}

// stateJSON is state.json: the Container, its spec as a spec.Doc (see
// there why). The outer Spec, shallower, takes "spec" from the embedded one.
type stateJSON struct {
	Container
	Spec *spec.Doc `json:"spec"`
}

// LoadForExec reads the state of container id under root for exec: its
// Spec holds only process and linux.namespaces, seccomp and personality,
// enough for Exec and Status; seccomp is decoded only if Exec needs it
// (see execSeccomp). Decoding the whole spec in a freshly started
// runtime costs about a millisecond of reflection, a tenth of an exec.
func LoadForExec(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, classf(errdefs.ErrNotFound, "container %s does not exist", id)
		}
		return nil, fmt.Errorf("load container %s: %w", id, err)
	}
	// The outer Spec, shallower, takes "spec" from the embedded one.
	var st struct {
		Container
		Spec struct {
			Process *specs.Process `json:"process"`
			Linux   *struct {
				Namespaces  []specs.LinuxNamespace  `json:"namespaces"`
				Seccomp     json.RawMessage         `json:"seccomp"`
				Personality *specs.LinuxPersonality `json:"personality"`
			} `json:"linux"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("load container %s: decode %s: %w", id, stateFile, err)
	}
	c := st.Container
	c.Spec = &specs.Spec{Process: st.Spec.Process, Linux: &specs.Linux{}}
	if l := st.Spec.Linux; l != nil {
		c.Spec.Linux = &specs.Linux{Namespaces: l.Namespaces, Personality: l.Personality}
		if len(l.Seccomp) > 0 && string(l.Seccomp) != "null" {
			c.seccompJSON = l.Seccomp // see execSeccomp
		}
	}
	if c.Spec.Process == nil {
		return nil, fmt.Errorf("load container %s: %s has no process", id, stateFile)
	}
	c.dir = dir
	return &c, nil
}

// RemoveOrphan removes the state directory of id when it holds no
// state.json (a create that was killed half-way); a valid container is
// left alone.
func RemoveOrphan(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove orphaned state %s: %w", dir, err)
	}
	return nil
}

// List returns every container under root, sorted by id.
func List(root string) ([]*Container, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list containers in %s: %w", root, err)
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := Load(root, e.Name())
		if err != nil {
			continue // a container being created or deleted right now
		}
		out = append(out, c)
	}
	return out, nil
}

// save writes state.json crash-safely: temp file, fsync, rename.
func (c *Container) save() error {
	commit, err := c.stage()
	if err != nil {
		return err
	}
	return commit()
}

// stage writes the container's state to a temporary file and returns the
// rename that makes it the state, so that the writing can overlap with
// other work (see Create).
func (c *Container) stage() (commit func() error, err error) {
	data, err := json.Marshal(stateJSON{Container: *c, Spec: spec.ToDoc(c.Spec)})
	if err != nil {
		return nil, fmt.Errorf("save container %s: %w", c.ID, err)
	}
	return stageFile(filepath.Join(c.dir, stateFile), data, 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	commit, err := stageFile(path, data, mode)
	if err != nil {
		return err
	}
	return commit()
}

// stageFile writes data to path's temporary file; commit renames it to
// path.
func stageFile(path string, data []byte, mode os.FileMode) (commit func() error, err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, mode)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return func() error {
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}, nil
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return c.dir }

// Status derives the container's status from the live system.
func (c *Container) Status() string {
	if !c.initAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(c.dir, fifoName)); err == nil {
		return Created
	}
	if st, err := cgroups.FreezerStateOf(c.CgroupPaths); err == nil && st == cgroups.Frozen {
		return Paused
	}
	return Running
}

// initAlive reports whether the init process recorded at create still runs
// (a zombie counts as gone: it has exited).
func (c *Container) initAlive() bool {
	if c.InitPid <= 0 {
		return false
	}
	st, state, err := procStart(c.InitPid)
	if err != nil || st != c.InitStart || state == 'Z' || state == 'X' {
		return false
	}
	return true
}

// procStart reads the start time (field 22) and state (field 3) of pid.
func procStart(pid int) (uint64, byte, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces: parse after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return start, f[0][0], nil
}

// OCIState is the state `berth-runtime state` prints: the OCI state plus
// the fields runc adds, which go-runc and containerd read.
type OCIState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// State returns the container's OCI state.
func (c *Container) State() OCIState {
	st := c.Status()
	pid := c.InitPid
	if st == Stopped {
		pid = 0
	}
	var ann map[string]string
	if c.Spec != nil {
		ann = c.Spec.Annotations
	}
	return OCIState{
		State: specs.State{
			Version: specs.Version, ID: c.ID, Status: specs.ContainerState(st),
			Pid: pid, Bundle: c.Bundle, Annotations: ann,
		},
		Rootfs: c.Rootfs, Created: c.Created, Owner: c.Owner,
	}
}

// hookState is the state passed to hooks on stdin.
func (c *Container) hookState(status string) []byte {
	pid := c.InitPid
	if status == Stopped {
		pid = 0
	}
	return c.hookStateFor(status, pid)
}

func (c *Container) hookStateFor(status string, pid int) []byte {
	st := specs.State{Version: specs.Version, ID: c.ID, Status: specs.ContainerState(status), Pid: pid, Bundle: c.Bundle}
	if c.Spec != nil {
		st.Annotations = c.Spec.Annotations
	}
	data, _ := json.Marshal(st)
	return data
}
