package spec

import (
	"bytes"
	"encoding/json"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Profile is a seccomp profile in Docker's JSON format: the OCI fields plus
// an archMap (architectures chosen by the host's) and rules that apply only
// with some capabilities, on some architectures or from some kernel on.
// Profile.Spec expands it for one container.
type Profile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []ArchMap                `json:"archMap,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	Syscalls         []Syscall                `json:"syscalls"`
}

// ArchMap names the sub-architectures served with a native one.
type ArchMap struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

// Syscall is one rule: the OCI fields plus Docker's conditions. Name is the
// single-syscall form of old profiles.
type Syscall struct {
	Names    []string                 `json:"names,omitempty"`
	Name     string                   `json:"name,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Args     []specs.LinuxSeccompArg  `json:"args,omitempty"`
	Comment  string                   `json:"comment,omitempty"`
	Includes *Filter                  `json:"includes,omitempty"`
	Excludes *Filter                  `json:"excludes,omitempty"`
}

// Filter is a rule's condition. Includes holds when every listed capability
// is in the container's bounding set, the host's architecture is listed
// (Go names: "amd64", "arm64", ...; "x32" never matches a native one) and
// the kernel is at least MinKernel. Excludes holds when any capability or
// the architecture is listed, or the kernel is at least MinKernel.
type Filter struct {
	Caps      []string       `json:"caps,omitempty"`
	Arches    []string       `json:"arches,omitempty"`
	MinKernel *KernelVersion `json:"minKernel,omitempty"`
}

// ParseProfile decodes and checks a profile in Docker's JSON format.
func ParseProfile(data []byte) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		return nil, invalidWrap(err, "decoding seccomp profile failed: %v", err)
	}
	if dec.More() {
		return nil, invalidf("decoding seccomp profile failed: data after the profile")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Spec expands the profile for a container holding caps (its bounding set)
// on host: the archMap entry of the host's architecture becomes the
// architecture list, and the rules whose conditions fail are left out. A
// profile with neither a default action nor rules means no filter (nil).
func (p *Profile) Spec(caps []string, host Host) (*specs.LinuxSeccomp, error) {
	if p.DefaultAction == "" && len(p.Syscalls) == 0 {
		return nil, nil
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  cloneUint(p.DefaultErrnoRet),
		Architectures:    slices.Clone(p.Architectures),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Flags:            slices.Clone(p.Flags),
	}
	native := nativeArch(host.arch())
	if scmp, ok := seccompArchOf(native); ok {
		for _, m := range p.ArchMap {
			if m.Arch == scmp {
				out.Architectures = append(append(out.Architectures, m.Arch), m.SubArches...)
				break
			}
		}
	}
	for _, r := range p.Syscalls {
		if !r.applies(caps, native, host.Kernel) {
			continue
		}
		names := r.Names
		if r.Name != "" {
			names = []string{r.Name}
		}
		out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{
			Names:    slices.Clone(names),
			Action:   r.Action,
			ErrnoRet: cloneUint(r.ErrnoRet),
			Args:     slices.Clone(r.Args),
		})
	}
	return out, nil
}

// applies evaluates the rule's includes and excludes. An unknown kernel
// (zero) counts as newer than any minKernel.
func (r *Syscall) applies(caps []string, arch string, kernel KernelVersion) bool {
	newEnough := func(min *KernelVersion) bool {
		return kernel == (KernelVersion{}) || kernel.atLeast(*min)
	}
	if e := r.Excludes; e != nil {
		if slices.Contains(e.Arches, arch) {
			return false
		}
		for _, c := range e.Caps {
			if slices.Contains(caps, c) {
				return false
			}
		}
		if e.MinKernel != nil && newEnough(e.MinKernel) {
			return false
		}
	}
	if i := r.Includes; i != nil {
		if len(i.Arches) > 0 && !slices.Contains(i.Arches, arch) {
			return false
		}
		for _, c := range i.Caps {
			if !slices.Contains(caps, c) {
				return false
			}
		}
		if i.MinKernel != nil && !newEnough(i.MinKernel) {
			return false
		}
	}
	return true
}

func cloneUint(p *uint) *uint {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
