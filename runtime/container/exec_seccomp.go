package container

import (
	"bytes"
	"crypto/sha256"
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
// started runtime, most of a millisecond. The file starts with the
// SHA-256 of the profile's JSON it was compiled from, so that a program
// kept for another profile (an exec that raced a delete and a create of
// the same ID, a later update of the profile) is never loaded.
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
		sum := sha256.Sum256(c.seccompJSON)
		// the profile's sum, flags (u32), then whole struct sock_filter
		// of 8 bytes
		if err == nil && len(data) > len(sum)+4 && (len(data)-len(sum)-4)%8 == 0 &&
			bytes.Equal(data[:len(sum)], sum[:]) {
			return data[len(sum):], nil
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

// keepExecSeccomp writes rec, the profile in profileJSON compiled, for
// the next execs. It is a cache: failing to write it only costs them the
// compilation. Concurrent execs each write their own temporary file.
func (c *Container) keepExecSeccomp(profileJSON, rec []byte) {
	f, err := os.CreateTemp(c.dir, execSeccompFile+".*.tmp")
	if err != nil {
		return
	}
	sum := sha256.Sum256(profileJSON)
	_, err = f.Write(append(sum[:], rec...))
	if cerr := f.Close(); err == nil && cerr == nil {
		err = os.Rename(f.Name(), filepath.Join(c.dir, execSeccompFile))
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
