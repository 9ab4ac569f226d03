package cgroups

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The OCI device list is read as an ordered rule list on top of "deny
// everything": for each access bit (m, r, w) of a request, the last rule
// that matches the device and includes the bit decides; a request is
// allowed when every bit it asks for is. The runtime appends its default
// devices to the list before calling Set.
//
// cgroup v1 cannot run such a list: the devices controller keeps a default
// (allow or deny everything) plus exceptions of the other sign, and a deny
// written while the default is deny only removes an exactly equal
// exception. v1Devices rewrites the list into that form and refuses the
// lists v1 cannot express (a rule that carves a hole into an earlier, broader
// rule of the other sign). cgroup v2 has no devices files at all: the list
// is compiled to an eBPF program (devicefilter.go) attached to the cgroup.

// Access bits, equal to the kernel's BPF_DEVCG_ACC_* values.
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

// devRule is one validated OCI device rule.
type devRule struct {
	typ   byte  // 'a' (any), 'b' or 'c'
	major int64 // -1 = any
	minor int64 // -1 = any
	acc   uint8
	allow bool
}

func parseDeviceRules(in []specs.LinuxDeviceCgroup) ([]devRule, error) {
	out := make([]devRule, 0, len(in))
	for i, d := range in {
		r := devRule{typ: 'a', major: -1, minor: -1, allow: d.Allow}
		switch d.Type {
		case "", "a":
		case "b", "c":
			r.typ = d.Type[0]
		default:
			return nil, fmt.Errorf("device rule %d: invalid type %q", i, d.Type)
		}
		var err error
		if r.major, err = devNumber(d.Major); err != nil {
			return nil, fmt.Errorf("device rule %d: major: %w", i, err)
		}
		if r.minor, err = devNumber(d.Minor); err != nil {
			return nil, fmt.Errorf("device rule %d: minor: %w", i, err)
		}
		access := d.Access
		if access == "" {
			access = "rwm"
		}
		for _, c := range access {
			switch c {
			case 'm':
				r.acc |= accMknod
			case 'r':
				r.acc |= accRead
			case 'w':
				r.acc |= accWrite
			default:
				return nil, fmt.Errorf("device rule %d: invalid access %q", i, d.Access)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func devNumber(p *int64) (int64, error) {
	if p == nil {
		return -1, nil
	}
	if *p < -1 || *p > math.MaxInt32 {
		return 0, fmt.Errorf("%d out of range", *p)
	}
	return *p, nil
}

// any reports whether the rule matches every device.
func (r devRule) any() bool { return r.typ == 'a' && r.major == -1 && r.minor == -1 }

func (r devRule) String() string {
	verb := "deny"
	if r.allow {
		verb = "allow"
	}
	return fmt.Sprintf("%s %s", verb, devKey{r.typ, r.major, r.minor}.line(r.acc))
}

// devKey is a device pattern of one type.
type devKey struct {
	typ          byte
	major, minor int64
}

func (k devKey) covers(o devKey) bool {
	return k.typ == o.typ && (k.major == -1 || k.major == o.major) && (k.minor == -1 || k.minor == o.minor)
}

func (k devKey) overlaps(o devKey) bool {
	return k.typ == o.typ && (k.major == -1 || o.major == -1 || k.major == o.major) &&
		(k.minor == -1 || o.minor == -1 || k.minor == o.minor)
}

func (k devKey) intersect(o devKey) devKey {
	if k.major == -1 {
		k.major = o.major
	}
	if k.minor == -1 {
		k.minor = o.minor
	}
	return k
}

// line formats a v1 devices.allow/deny entry: "c 1:3 rwm", "*" for any.
func (k devKey) line(acc uint8) string {
	num := func(n int64) string {
		if n == -1 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	var a strings.Builder
	for _, b := range []struct {
		bit uint8
		c   byte
	}{{accRead, 'r'}, {accWrite, 'w'}, {accMknod, 'm'}} {
		if acc&b.bit != 0 {
			a.WriteByte(b.c)
		}
	}
	return fmt.Sprintf("%c %s:%s %s", k.typ, num(k.major), num(k.minor), a.String())
}

type exception struct {
	devKey
	acc uint8
}

// v1Devices is the v1 form of a rule list: "a" written to devices.allow
// (allowAll) or devices.deny, then each exception written to the other file.
type v1Devices struct {
	allowAll   bool
	exceptions []string
}

func toV1Devices(rules []devRule) (v1Devices, error) {
	allowAll := false
	var excs []exception
	for i, r := range rules {
		if r.any() && r.acc == accAll {
			allowAll, excs = r.allow, nil
			continue
		}
		types := []byte{r.typ}
		if r.typ == 'a' { // v1 reads an "a" entry as "everything"
			types = []byte{'c', 'b'}
		}
		for _, t := range types {
			k := devKey{t, r.major, r.minor}
			if r.allow != allowAll {
				excs = addException(excs, k, r.acc)
				continue
			}
			// r restores the default on k: take its bits out of the
			// exceptions it covers; it cannot punch into a broader one.
			kept := excs[:0]
			for _, e := range excs {
				if k.covers(e.devKey) {
					if e.acc &^= r.acc; e.acc == 0 {
						continue
					}
				} else if k.overlaps(e.devKey) && e.acc&r.acc != 0 {
					return v1Devices{}, fmt.Errorf("device rule %d (%s) overrides part of an earlier broader rule (%s), which cgroup v1 cannot express",
						i, r, e.line(e.acc))
				}
				kept = append(kept, e)
			}
			excs = kept
		}
	}
	if !allowAll {
		excs = closeExceptions(excs)
	}
	v := v1Devices{allowAll: allowAll}
	for _, e := range excs {
		v.exceptions = append(v.exceptions, e.line(e.acc))
	}
	return v, nil
}

func addException(excs []exception, k devKey, acc uint8) []exception {
	for i := range excs {
		if excs[i].devKey == k {
			excs[i].acc |= acc
			return excs
		}
	}
	return append(excs, exception{k, acc})
}

// closeExceptions makes allow exceptions agree with per-bit rules. v1
// allows a request only if one exception holds every bit asked for, so
// "c 1:* r" plus "c 1:3 w" would refuse opening 1:3 read-write. Wherever two
// exceptions overlap, the overlap gets an exception with both access sets.
func closeExceptions(excs []exception) []exception {
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(excs); i++ {
			for j := 0; j < len(excs); j++ {
				a, b := excs[i], excs[j]
				if i == j || !a.overlaps(b.devKey) || b.covers(a.devKey) {
					continue
				}
				u := a.acc | b.acc
				if a.covers(b.devKey) {
					if b.acc != u {
						excs[j].acc, changed = u, true
					}
					continue
				}
				k := a.intersect(b.devKey)
				if n := indexOf(excs, k); n < 0 {
					excs, changed = append(excs, exception{k, u}), true
				} else if excs[n].acc|u != excs[n].acc {
					excs[n].acc, changed = excs[n].acc|u, true
				}
			}
		}
	}
	return excs
}

func indexOf(excs []exception, k devKey) int {
	for i := range excs {
		if excs[i].devKey == k {
			return i
		}
	}
	return -1
}

func (m *manager) setDevices(r *specs.LinuxResources) error {
	if len(r.Devices) == 0 {
		return nil
	}
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	if h, ok := m.v1["devices"]; ok {
		v, err := toV1Devices(rules)
		if err != nil {
			return err
		}
		def, other := "devices.deny", "devices.allow"
		if v.allowAll {
			def, other = other, def
		}
		if err := writeFile(h.dir, def, "a"); err != nil {
			return err
		}
		return writeLines(h.dir, other, v.exceptions)
	}
	if m.v2.dir == "" {
		return fmt.Errorf("devices cgroup controller is not mounted under %s", m.root)
	}
	prog, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	if err := m.attachDevices(m.v2.dir, prog); err != nil {
		return fmt.Errorf("install device filter on %s: %w", m.v2.dir, err)
	}
	return nil
}
