package portmap

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	netsvc "github.com/berth-dev/berth/network"
)

// FromDocker returns the ports a container publishes: every binding of
// bindings (HostConfig.PortBindings), and with publishAll (-P) every
// exposed port that has none, on a free host port. A HostPort may be
// empty or "0" (a free port), a number, or a range "8000-8010" (the
// first free one). The result is sorted and has no duplicates.
func FromDocker(bindings network.PortMap, exposed network.PortSet, publishAll bool) ([]netsvc.PortBinding, error) {
	var out []netsvc.PortBinding
	for port, list := range bindings {
		proto, err := checkPort(port)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			lo, hi, err := hostPorts(b.HostPort)
			if err != nil {
				return nil, err
			}
			out = append(out, netsvc.PortBinding{Proto: proto, HostIP: b.HostIP.Unmap(), HostPort: lo, HostPortEnd: hi, ContainerPort: port.Num()})
		}
	}
	if publishAll {
		for port := range exposed {
			if len(bindings[port]) > 0 {
				continue
			}
			proto, err := checkPort(port)
			if err != nil {
				return nil, err
			}
			out = append(out, netsvc.PortBinding{Proto: proto, ContainerPort: port.Num()})
		}
	}
	slices.SortFunc(out, compare)
	return slices.Compact(out), nil
}

func compare(a, b netsvc.PortBinding) int {
	return cmp.Or(
		cmp.Compare(a.ContainerPort, b.ContainerPort),
		strings.Compare(a.Proto, b.Proto),
		a.HostIP.Compare(b.HostIP),
		cmp.Compare(a.HostPort, b.HostPort),
		cmp.Compare(a.HostPortEnd, b.HostPortEnd))
}

// checkPort returns the protocol of a container port ("80/tcp").
func checkPort(p network.Port) (string, error) {
	proto := string(p.Proto())
	switch {
	case !p.IsValid() || p.Num() == 0:
		return "", invalid(p.String())
	case proto != "tcp" && proto != "udp" && proto != "sctp":
		return "", invalid(p.String())
	}
	return proto, nil
}

// hostPorts parses a binding's HostPort: "" or "0" (0, 0), "8080"
// (8080, 0), "8000-8010" (8000, 8010); a range of one port is that port.
func hostPorts(s string) (lo, hi uint16, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, ok := portNum(a)
	if !ok {
		return 0, 0, invalid(s)
	}
	if !isRange {
		return lo, 0, nil
	}
	hi, ok = portNum(b)
	if !ok || hi < lo || lo == 0 {
		return 0, 0, invalid(s)
	}
	if hi == lo {
		hi = 0
	}
	return lo, hi, nil
}

// portNum parses a decimal port, 0 to 65535, digits only.
func portNum(s string) (uint16, bool) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err == nil
}

// invalid is Docker's error, in its words, for a port it cannot parse.
func invalid(spec string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid port specification: %q", spec))
}
