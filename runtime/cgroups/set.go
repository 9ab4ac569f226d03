package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Set writes r controller by controller, stopping at the first error. The
// unified map goes last so that its raw values win over converted ones.
func (m *manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setCpuset,
		m.setMemory,
		m.setCPU,
		m.setPids,
		m.setBlockIO,
		m.setHugetlb,
		m.setNetwork,
		m.setRdma,
		m.setDevices,
		m.setUnified,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

// Zero values of the OCI pointers below are treated as "not set", as runc
// does (Docker and others send 0 for options the user did not give).
func set64(p *int64) bool   { return p != nil && *p != 0 }
func setU64(p *uint64) bool { return p != nil && *p != 0 }
