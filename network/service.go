package network

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/network/bridge"
)

// Pool is one of the default address pools (daemon.json
// "default-address-pools"): subnets of length Size are carved from Base
// for networks created without a subnet.
type Pool struct {
	Base netip.Prefix
	Size int
}

// Reservation is a published host port held for a container's life
// (*portmap.Reservation).
type Reservation interface {
	Port() uint16
	Close() error
}

// Options configure the service. DB is required; everything else has
// dockerd's default.
type Options struct {
	DB *bolt.DB
	// Table is berth's nftables table ("berth"); empty: berthd writes no
	// rules (daemon.json "iptables": false).
	Table string
	// DefaultBridge is the default network's bridge device (default
	// "berth0"); "none" means no default bridge network (--bridge=none):
	// containers in the default network mode then get loopback only.
	DefaultBridge string
	// DefaultSubnet is --bip: the default bridge's address with the
	// subnet's length (172.17.0.1/16); zero: 172.17.0.0/16 unless it
	// overlaps a host route, else the first free subnet of Pools.
	DefaultSubnet netip.Prefix
	// Pools are where subnets of new networks come from; nil: dockerd's
	// defaults (172.17-31.0.0/16 by /16, 192.168.0.0/16 by /20).
	Pools []Pool
	// MTU of the bridges and veths; 0: the MTU of the host's default
	// route's interface, else 1500.
	MTU int
	// DisableICC forbids traffic between containers on the default
	// bridge (daemon.json "icc": false).
	DisableICC bool
	// KeepIPForward leaves net.ipv4.ip_forward alone (daemon.json
	// "ip-forward": false); else the rules turn it on.
	KeepIPForward bool
	// Upstreams are the resolvers the embedded DNS forwards to.
	Upstreams func() []netip.AddrPort
	// Reserve holds a published host port (portmap.Reserve); nil: host
	// ports are taken as given and not held (port 0 is refused).
	Reserve func(PortBinding) (Reservation, error)
	// NetNS is the network namespace where bridges, rules and DNS
	// listeners live, as a path; empty: berthd's own. Tests set it.
	NetNS string
	// Drivers are the network drivers besides the built-in bridge, by
	// the name docker network create -d gives (macvlan, vlan, phys, a
	// CNI or remote plugin's). "bridge", "host" and "null" are berth's.
	Drivers map[string]Driver
	Logger  *slog.Logger
}

// Service keeps berthd's networks and the containers' endpoints on them.
// It implements ContainerNetworks and the /networks API. Make it with
// New.
type Service struct {
	o   Options
	log *slog.Logger
	drv *bridge.Driver
	// drivers are the network drivers by name, "bridge" included.
	drivers map[string]Driver
	ns      *nsWorker // nil: the calling thread's namespace is the right one
	fw      firewall  // nil: no rules
	dns     resolver  // nil: no embedded DNS

	// mu guards the maps and every write of the records.
	mu       sync.Mutex
	networks map[string]*Network  // by ID
	eps      map[string]*Endpoint // by endpoint ID
	used     map[string]map[netip.Addr]string
	resv     map[string][]Reservation // held host ports, by endpoint ID
	// nsPaths are the containers' network namespaces as last told
	// (Attach, Connect, Restore), for the drivers' Leave.
	nsPaths map[string]string
	mtu     int

	// ruleMu orders rule updates: the state read and the table written
	// under it, so an older state never overwrites a newer one.
	ruleMu sync.Mutex
	wrote  bool // the table may hold rules of this service's (under ruleMu)

	closeOnce sync.Once
}

var _ ContainerNetworks = (*Service)(nil)

// New loads the records, makes the predefined networks, brings every
// bridge network's bridge up, and applies the rules.
func New(o Options) (s *Service, err error) {
	if o.DB == nil {
		return nil, fmt.Errorf("network service: a database is required: %w", errdefs.ErrInvalidArgument)
	}
	for name := range o.Drivers {
		switch name {
		case "", "bridge", "host", "null":
			return nil, fmt.Errorf("network service: driver name %q is berth's own: %w", name, errdefs.ErrInvalidArgument)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DefaultBridge == "" {
		o.DefaultBridge = "berth0"
	}
	if o.Pools == nil {
		o.Pools = DefaultPools()
	}
	s = &Service{o: o, log: o.Logger, networks: map[string]*Network{}, eps: map[string]*Endpoint{},
		used: map[string]map[netip.Addr]string{}, resv: map[string][]Reservation{},
		nsPaths: map[string]string{}}
	if o.NetNS != "" {
		if s.ns, err = newNSWorker(o.NetNS); err != nil {
			return nil, err
		}
	}
	made := s // the error returns below set s to nil
	defer func() {
		if err != nil {
			made.Close()
		}
	}()
	if s.drv, err = bridge.New(o.NetNS); err != nil {
		return nil, fmt.Errorf("network service: %w", err)
	}
	s.drivers = map[string]Driver{}
	for name, d := range o.Drivers {
		s.drivers[name] = d
	}
	s.drivers["bridge"] = bridgeDriver{s.drv}
	if err := s.openGlue(); err != nil {
		return nil, fmt.Errorf("network service: %w", err)
	}
	s.mtu = o.MTU
	if s.mtu == 0 {
		s.mtu = s.hostMTU()
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.predefined(); err != nil {
		return nil, err
	}
	for _, n := range s.sortedNetworks() {
		if err := s.up(n); err != nil {
			if n.Driver == "bridge" {
				return nil, err
			}
			// A parent interface missing now must not keep berthd
			// down; joining the network fails until it is back.
			s.log.Warn("network not brought up", "network", n.Name, "driver", n.Driver, "err", err)
		}
	}
	if err := s.applyRules(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the embedded DNS and releases the held ports and netlink
// sockets. Bridges, veths and rules stay for the next berthd (live
// restore).
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

func (s *Service) close() error {
	s.mu.Lock()
	for id, rs := range s.resv {
		for _, r := range rs {
			r.Close()
		}
		delete(s.resv, id)
	}
	s.mu.Unlock()
	var err error
	if s.dns != nil {
		err = s.dns.Close()
	}
	if s.fw != nil {
		s.fw.Close()
	}
	if s.drv != nil {
		s.drv.Close()
	}
	if s.ns != nil {
		s.ns.close()
	}
	return err
}

// inNS runs f in the service's network namespace (for what binds
// sockets there: rules, DNS listeners, port reservations).
func (s *Service) inNS(f func() error) error {
	if s.ns == nil {
		return f()
	}
	return s.ns.do(f)
}

// hostMTU is the MTU of the default route's interface, 1500 without one.
func (s *Service) hostMTU() int {
	if m := s.drv.DefaultRouteMTU(); m > 0 {
		return m
	}
	return 1500
}

// up makes a network's host side (a bridge network's bridge) and, on a
// user bridge network, its DNS listener.
func (s *Service) up(n *Network) error {
	d := s.drivers[n.Driver]
	if d == nil {
		if n.Driver != "host" && n.Driver != "null" {
			s.log.Warn("network of an unknown driver left down", "network", n.Name, "driver", n.Driver)
		}
		return nil
	}
	if err := d.CreateNetwork(n); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	if n.Driver == "bridge" && s.dns != nil && !n.Default {
		if err := s.inNS(func() error { return s.dns.Listen(n.Gateway) }); err != nil {
			s.log.Warn("embedded DNS not listening", "network", n.Name, "addr", n.Gateway, "err", err)
		}
	}
	return nil
}

// logger is the context's logger or the service's.
func (s *Service) logger(ctx context.Context) *slog.Logger {
	_ = ctx
	return s.log
}
