package nat

import (
	"fmt"
	"net/netip"

	"github.com/containerd/errdefs"
)

// NetRule is one bridge network.
type NetRule struct {
	Bridge   string       // the bridge device
	Subnet   netip.Prefix // IPv4
	Internal bool         // no way out of the bridge, no masquerade
	ICC      bool         // containers on the bridge may talk to each other
}

// PortRule is one published port.
type PortRule struct {
	Proto         string     // "tcp", "udp" or "sctp"
	HostIP        netip.Addr // zero: every local address (127.0.0.1 too)
	HostPort      uint16
	ContainerIP   netip.Addr
	ContainerPort uint16
	Bridge        string // the bridge ContainerIP is on
}

// Rules is the whole desired state of the table.
type Rules struct {
	Networks []NetRule
	Ports    []PortRule
	// KeepIPForward leaves net.ipv4.ip_forward as it is (dockerd's
	// "ip-forward": false); outbound NAT and published ports from other
	// hosts then work only if the host forwards.
	KeepIPForward bool
}

// IP protocol numbers (/etc/protocols).
var protoNumbers = map[string]byte{"tcp": 6, "udp": 17, "sctp": 132}

// ifNameSize is IFNAMSIZ: an interface name is at most 15 bytes and a NUL.
const ifNameSize = 16

// validate checks r before anything is sent to the kernel, so a bad rule
// leaves the table as it was.
func (r Rules) validate() error {
	bridges := map[string]bool{}
	for _, n := range r.Networks {
		if err := checkBridge(n.Bridge); err != nil {
			return err
		}
		if bridges[n.Bridge] {
			return fmt.Errorf("network on bridge %s given twice: %w", n.Bridge, errdefs.ErrInvalidArgument)
		}
		bridges[n.Bridge] = true
		if !n.Subnet.IsValid() || !n.Subnet.Addr().Is4() {
			return fmt.Errorf("subnet %s of bridge %s: not an IPv4 prefix: %w", n.Subnet, n.Bridge, errdefs.ErrInvalidArgument)
		}
	}
	for _, p := range r.Ports {
		if err := p.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (p PortRule) validate() error {
	if _, ok := protoNumbers[p.Proto]; !ok {
		return fmt.Errorf("port %s: unknown protocol %q: %w", p.host(), p.Proto, errdefs.ErrInvalidArgument)
	}
	if p.HostIP.IsValid() && !p.HostIP.Unmap().Is4() {
		return fmt.Errorf("port %s: only IPv4 host addresses are supported: %w", p.host(), errdefs.ErrNotImplemented)
	}
	if !p.ContainerIP.Unmap().Is4() {
		return fmt.Errorf("port %s: container address %s is not IPv4: %w", p.host(), p.ContainerIP, errdefs.ErrInvalidArgument)
	}
	if p.HostPort == 0 || p.ContainerPort == 0 {
		return fmt.Errorf("port %s: port 0 to %d: %w", p.host(), p.ContainerPort, errdefs.ErrInvalidArgument)
	}
	return checkBridge(p.Bridge)
}

// host names the published side, "0.0.0.0:8080/tcp" style.
func (p PortRule) host() string {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return fmt.Sprintf("%s:%d/%s", ip, p.HostPort, p.Proto)
}

func checkBridge(name string) error {
	if name == "" || len(name) >= ifNameSize || name == "." || name == ".." {
		return fmt.Errorf("bridge name %q: want 1 to %d bytes: %w", name, ifNameSize-1, errdefs.ErrInvalidArgument)
	}
	for _, c := range []byte(name) {
		if c == '/' || c == 0 || c <= ' ' || c == ':' {
			return fmt.Errorf("bridge name %q: invalid character: %w", name, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

var loopbackNet = netip.MustParsePrefix("127.0.0.0/8")
