package main

import (
	"io"
	"log/slog"
	"net/netip"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/dns"
	"github.com/berth-dev/berth/network/portmap"
)

// nftTable is berthd's own nftables table: every rule berthd writes is
// there, and no other table is touched.
const nftTable = "berth"

// Host files the embedded DNS finds its upstream resolvers in.
const (
	hostResolvConf    = "/etc/resolv.conf"
	systemdResolvConf = "/run/systemd/resolve/resolv.conf"
)

// newNetworks wires the network service from the network keys of the
// configuration (dockerd's: bridge, bip, default-address-pools, mtu,
// iptables, icc). Bridges, veths and rules outlive berthd; the service
// finds them again, and the container service's Restore tells it which
// containers still run.
func newNetworks(cfg *config.Config, db *bolt.DB, log *slog.Logger) (*network.Service, error) {
	bip, err := cfg.DefaultBridgeAddr()
	if err != nil {
		return nil, err
	}
	pools, err := cfg.AddressPools()
	if err != nil {
		return nil, err
	}
	o := network.Options{
		DB: db, Table: nftTable, DefaultBridge: cfg.Bridge, DefaultSubnet: bip, MTU: cfg.MTU,
		DisableICC: !cfg.ICC, Upstreams: upstreams, Reserve: reservePort, Logger: log,
	}
	if !cfg.IPTables {
		o.Table = ""
	}
	if o.Drivers, err = linkDrivers(cfg); err != nil {
		return nil, err
	}
	if err := pluginDrivers(cfg, o.Drivers, log); err != nil {
		return nil, err
	}
	for _, p := range pools {
		o.Pools = append(o.Pools, network.Pool{Base: p.Base, Size: p.Size})
	}
	if !cfg.IPForward {
		o.KeepIPForward = true
		log.Warn(`"ip-forward": false: berthd leaves net.ipv4.ip_forward as it is; outbound NAT and published ports reached from other hosts need it on`)
	}
	return network.New(o)
}

// upstreams are the resolvers the embedded DNS forwards to, read from
// the host's files at each call, so that a change of the host's
// resolvers reaches the containers.
func upstreams() []netip.AddrPort {
	return dns.Upstreams(readSmall(hostResolvConf), readSmall(systemdResolvConf))
}

// reservePort holds a published host port for a container's life.
func reservePort(b network.PortBinding) (network.Reservation, error) {
	r, err := portmap.Reserve(b)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// readSmall reads at most 1 MiB of a host file; nil when it is missing.
func readSmall(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return b
}
