// Package caps applies the five capability sets of an OCI process
// (bounding, effective, permitted, inheritable, ambient) to the calling
// thread. The runtime's init calls it on its locked OS thread right before
// execve, so the sets it applies are the ones the container process inherits.
package caps

import (
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Caps is a compiled set of capabilities ready to apply.
type Caps struct {
	c capability.Capabilities
}

// Known returns the names ("CAP_CHOWN", …) of every capability this build knows.
func Known() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

// byName maps the capabilities the running kernel supports.
func byName() (map[string]capability.Cap, error) {
	sup, err := capability.ListSupported()
	if err != nil {
		return nil, fmt.Errorf("list supported capabilities: %w", err)
	}
	m := make(map[string]capability.Cap, len(sup))
	for _, c := range sup {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m, nil
}

// New compiles lc. A name the kernel does not know (a newer capability, or a
// typo) is skipped and returned in unknown, so that configs written for newer
// kernels still run, as with runc and crun.
func New(lc *specs.LinuxCapabilities) (c *Caps, unknown []string, err error) {
	names, err := byName()
	if err != nil {
		return nil, nil, err
	}
	set, err := capability.NewPid2(0)
	if err != nil {
		return nil, nil, fmt.Errorf("capabilities: %w", err)
	}
	set.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	if lc == nil {
		return &Caps{c: set}, nil, nil
	}
	seen := map[string]bool{}
	for _, g := range []struct {
		which capability.CapType
		names []string
	}{
		{capability.BOUNDING, lc.Bounding},
		{capability.EFFECTIVE, lc.Effective},
		{capability.PERMITTED, lc.Permitted},
		{capability.INHERITABLE, lc.Inheritable},
		{capability.AMBIENT, lc.Ambient},
	} {
		for _, n := range g.names {
			c, ok := names[strings.ToUpper(n)]
			if !ok {
				if !seen[n] {
					unknown = append(unknown, n)
					seen[n] = true
				}
				continue
			}
			set.Set(g.which, c)
		}
	}
	return &Caps{c: set}, unknown, nil
}

// ApplyBounding drops from the calling thread's bounding set every
// capability not in the configured bounding set. It needs CAP_SETPCAP, so it
// runs before the process changes its user.
func (c *Caps) ApplyBounding() error {
	if err := c.c.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("apply bounding capabilities: %w", err)
	}
	return nil
}

// Apply sets the effective, permitted, inheritable and ambient sets.
func (c *Caps) Apply() error {
	if err := c.c.Apply(capability.CAPS | capability.AMBS); err != nil {
		return fmt.Errorf("apply capabilities: %w", err)
	}
	return nil
}

// Has reports whether the calling process has capability name in its
// effective set.
func Has(name string) bool {
	names, err := byName()
	if err != nil {
		return false
	}
	c, ok := names[name]
	if !ok {
		return false
	}
	// capget(2) alone: loading a full capability.Capabilities also reads
	// /proc/self/status, on every create's path.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil || c > 63 {
		return false
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}

// Masks returns the five sets as bit masks (bit n is capability n), in the
// order bounding, effective, permitted, inheritable, ambient, and the
// highest capability the running kernel knows: what a caller that applies
// the sets itself (nsexec, in C) needs.
func (c *Caps) Masks() (last uint32, sets [5]uint64, err error) {
	lc, err := capability.LastCap()
	if err != nil {
		return 0, sets, fmt.Errorf("capabilities: %w", err)
	}
	if lc > 63 {
		return 0, sets, fmt.Errorf("capabilities: the kernel knows %d, more than 64", lc+1)
	}
	for i, which := range []capability.CapType{capability.BOUNDING, capability.EFFECTIVE, capability.PERMITTED, capability.INHERITABLE, capability.AMBIENT} {
		for n := capability.Cap(0); n <= lc; n++ {
			if c.c.Get(which, n) {
				sets[i] |= 1 << uint(n)
			}
		}
	}
	return uint32(lc), sets, nil
}
