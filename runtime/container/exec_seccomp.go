package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// execSeccompFile keeps, beside state.json, the container's linux.seccomp
// compiled for nsexec (the payload of the exec blob's seccomp record):
// the first exec that nsexec runs compiles it, the later ones read it
// instead of decoding the profile and compiling it again in a freshly
// started runtime, most of a millisecond. The profile cannot change while
// the state directory lives (update does not touch it).
const execSeccompFile = "exec-seccomp.bpf"

// execSeccomp returns the compiled profile for an exec of p when nsexec
// can run it and one was kept; else nil, with Spec.Linux.Seccomp decoded
// for the encoder or Go's init.
func (c *Container) execSeccomp(p *specs.Process) ([]byte, error) {
	if c.seccompJSON == nil {
		return nil, nil // decoded already (Load), or no profile
	}
	if fastExecOK(p, c.Spec) {
		data, err := os.ReadFile(filepath.Join(c.dir, execSeccompFile))
		// flags (u32), then whole struct sock_filter of 8 bytes
		if err == nil && len(data) > 4 && (len(data)-4)%8 == 0 {
			return data, nil
		}
	}
	return nil, c.decodeSeccomp()
}

// decodeSeccomp decodes linux.seccomp into Spec if LoadForExec left it.
func (c *Container) decodeSeccomp() error {
	if c.seccompJSON == nil {
		return nil
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(c.seccompJSON, &sc); err != nil {
		return fmt.Errorf("load container %s: decode linux.seccomp: %w", c.ID, err)
	}
	c.Spec.Linux.Seccomp, c.seccompJSON = &sc, nil
	return nil
}

// keepExecSeccomp writes the compiled profile for the next execs. It is a
// cache: failing to write it only costs them the compilation. Concurrent
// execs each write their own temporary file.
func (c *Container) keepExecSeccomp(rec []byte) {
	f, err := os.CreateTemp(c.dir, execSeccompFile+".*.tmp")
	if err != nil {
		return
	}
	_, err = f.Write(rec)
	if cerr := f.Close(); err == nil && cerr == nil {
		err = os.Rename(f.Name(), filepath.Join(c.dir, execSeccompFile))
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
