package portmap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	netsvc "github.com/berth-dev/berth/network"
)

// Reservation holds a host port: a socket bound on it.
type Reservation struct {
	sock *os.File // nil once closed
	port uint16
}

// Port is the host port held.
func (r *Reservation) Port() uint16 { return r.port }

// Close lets the port go; closing twice is no error.
func (r *Reservation) Close() error {
	if r.sock == nil {
		return nil
	}
	sock := r.sock
	r.sock = nil
	if err := sock.Close(); err != nil {
		return fmt.Errorf("release port %d: %w", r.port, err)
	}
	return nil
}

// Reserve binds a socket of b's protocol on b.HostIP (zero: every
// address) and b.HostPort, or on the first free port of the range
// b.HostPort..b.HostPortEnd, or, for port 0, on a free port of the
// ephemeral range. A port in use is errdefs.ErrConflict, in Docker's
// words.
func Reserve(b netsvc.PortBinding) (*Reservation, error) {
	ip := b.HostIP.Unmap()
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	lo, hi, random := b.HostPort, b.HostPort, false
	switch {
	case b.HostPort == 0:
		var err error
		if lo, hi, err = ephemeralRange(); err != nil {
			return nil, err
		}
		random = true
	case b.HostPortEnd > b.HostPort:
		hi = b.HostPortEnd
	}
	n := int(hi) - int(lo) + 1
	start := 0
	if random {
		start = rand.IntN(n)
	}
	for i := range n {
		port := uint16(int(lo) + (start+i)%n)
		fd, err := bind(b.Proto, ip, port)
		if err == nil {
			name := fmt.Sprintf("%s:%s", b.Proto, netip.AddrPortFrom(ip, port))
			return &Reservation{sock: os.NewFile(uintptr(fd), name), port: port}, nil
		}
		if b.Proto == "sctp" && (errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ESOCKTNOSUPPORT)) {
			// No SCTP sockets in this kernel: nothing can bind the
			// port either, and DNAT needs no socket.
			return &Reservation{port: port}, nil
		}
		if !errors.Is(err, unix.EADDRINUSE) {
			return nil, fmt.Errorf("Bind for %s failed: %w", netip.AddrPortFrom(ip, port), err)
		}
	}
	if n == 1 {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Bind for %s failed: port is already allocated", netip.AddrPortFrom(ip, lo)))
	}
	return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Bind for %s-%d failed: all ports are allocated", netip.AddrPortFrom(ip, lo), hi))
}

// bind makes a socket of proto bound on ip:port, without SO_REUSEADDR.
func bind(proto string, ip netip.Addr, port uint16) (int, error) {
	typ, p := unix.SOCK_STREAM, unix.IPPROTO_TCP
	switch proto {
	case "tcp":
	case "udp":
		typ, p = unix.SOCK_DGRAM, unix.IPPROTO_UDP
	case "sctp":
		typ, p = unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP
	default:
		return -1, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid protocol %q", proto))
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ip.Is6() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(port), Addr: ip.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, p)
	if err != nil {
		return -1, fmt.Errorf("%s socket: %w", proto, err)
	}
	if ip.Is6() {
		// [::]:port is IPv6 only, as Docker's two bindings (0.0.0.0 and ::).
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// ephemeralRange reads the kernel's ephemeral port range.
func ephemeralRange() (lo, hi uint16, err error) {
	const path = "/proc/sys/net/ipv4/ip_local_port_range"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("ephemeral port range: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) == 2 {
		a, okA := portNum(f[0])
		z, okZ := portNum(f[1])
		if okA && okZ && a > 0 && a <= z {
			return a, z, nil
		}
	}
	return 0, 0, fmt.Errorf("ephemeral port range: %s: malformed %q", path, strings.TrimSpace(string(b)))
}
