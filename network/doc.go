// Package network is berthd's network service: networks, their
// addresses, and how containers join them, the way Docker users expect.
// The kernel's own mechanisms are driven from Go: netlink for links,
// addresses and routes (github.com/vishvananda/netlink, netns), nftables
// over netlink for NAT, port forwarding and isolation
// (github.com/google/nftables), and an embedded DNS server
// (github.com/miekg/dns). No ip, iptables or proxy process.
//
// # Parts
//
//	network/            Service: networks and endpoints in bbolt, IPAM
//	                    (addresses are the endpoints' addresses, so leases
//	                    persist with them), default address pools that skip
//	                    ranges overlapping a host route, the predefined
//	                    networks bridge/host/none, Attach/Detach/Connect/
//	                    Disconnect/Restore for the container service
//	                    (types.go is the contract), reconciliation at start
//	network/bridge      the bridge driver: bridge device with the gateway
//	                    address, veth pairs (host end on the bridge, ethN in
//	                    the container), addresses, MACs, default route, MTU
//	network/nat         berth's nftables table "berth" (inet family), which
//	                    berthd owns and rebuilds atomically from the desired
//	                    state: masquerade out of non-internal networks,
//	                    isolation between networks, DNAT of published ports
//	                    from outside, from the host (127.0.0.1 included) and
//	                    from containers (hairpin); other tables untouched
//	network/portmap     published ports: Docker's PortMap and -P to
//	                    PortBindings, host ports allocated from the ephemeral
//	                    range and reserved by bound sockets, so a port in use
//	                    is a clear error and no other program takes it
//	network/dns         the embedded DNS server: container names and aliases
//	                    on user networks, anything else forwarded to the
//	                    container's --dns servers (kept on its endpoints),
//	                    else the host's resolvers; nowhere from a container
//	                    only on internal networks (lookup.go)
//	network/macvlan     driver "macvlan": a macvlan of -o parent in the
//	                    container (NAME.VLAN parents made when missing)
//	network/vlan        driver "vlan": the parent's 802.1q sub-interface
//	                    for -o vlan in the container (one at a time)
//	network/phys        driver "phys": a host interface moved into the
//	                    container and handed back with its addresses
//
// # Drivers
//
// A network's driver (Network.Driver, docker network create -d) makes
// what the network is on the host and each container's interface on it;
// the Driver interface (driver.go) is all the service asks of one:
//
//	CheckNetwork(n)              at create, before the record: options
//	CreateNetwork(n)             after the record, and at every start
//	DeleteNetwork(n)             at remove, before the record goes
//	Join(n, ep, netns, route)    at start/connect, after the lease
//	Leave(n, ep, netns)          at stop/disconnect/restore, before the
//	                             lease goes; netns may be "" or stale
//
// Each may run again on what exists or is gone, and must succeed then.
// The service keeps the records and the leases (IPAM) for every
// driver, and for "bridge" alone (built in, over network/bridge) the
// embedded DNS on the gateway, the nftables rules, published ports and
// the sweep of stray veths at restore. Other drivers come in Options.Drivers
// by name (berthd registers macvlan, vlan and phys; CNI and remote
// plugin drivers plug in the same way): their networks get no DNS and no
// rules, and published ports are refused unless the driver implements
// PortMapper (cni: the service reserves the host ports and Join hands
// them to the portmap plugin). A driver implementing SubnetOptional may
// have networks without a subnet, whose endpoints bring their own
// address (Join fills Endpoint.Address; the service records it); one
// implementing NameserverSource names the DNS servers for resolv.conf. A network whose driver is not registered stays in the
// records and is reported by inspect, but nothing can join it; a
// driver's network that cannot come up at start (its parent missing) is
// logged and does not keep berthd down.
//
// # Data path of a published port
//
// -p 8080:80 on a container at 172.18.0.2 on bridge br-x: a packet to any
// host address port 8080 is DNATed to 172.18.0.2:80 in prerouting (from
// outside or from another container) or in output (from the host); from
// 127.0.0.1 it is also masqueraded out of the bridge (route_localnet on
// the bridge), and a container reaching its own published port is
// masqueraded too (hairpin). Nothing in user space is in the path.
//
// # On disk
//
//	DATA/berth.db  buckets "networks" (one JSON record per network, by ID)
//	               and "endpoints" (by endpoint ID; the addresses in use)
//
// # Leases, order of effects, reconciliation
//
// An endpoint record is the address lease: Attach picks the lowest free
// address of the network (or checks the static one) and writes the
// record under the service's lock, so concurrent starts never share an
// address, and only then makes the veth pair and holds the host ports;
// on error every step is undone. Detach removes the veth, the ports and
// then the record. A network is created record first, bridge second (New
// makes missing bridges again), and removed bridge first, record second,
// so a crash never leaves a bridge without its record.
//
// At start New loads the records, makes or updates the predefined
// networks (the default bridge follows --bridge and --bip; without --bip
// it keeps its subnet, else takes 172.17.0.0/16, else the first free pool
// subnet), brings every bridge and DNS listener up and writes the rules.
// Restore, told which containers still run, then removes the others'
// endpoints and any veth on a berth bridge no record names, holds the
// running containers' ports again and rewrites the rules.
//
// Everything that makes a socket bound to a network namespace (the
// nftables connection, DNS listeners, port reservations) runs in the
// service's namespace, Options.NetNS, which lets the tests run a whole
// service inside a namespace of their own.
package network
