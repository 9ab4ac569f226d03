package network

import (
	"context"
	"net/netip"
	"time"
)

// This file is the contract between the parts of the network service
// (see doc.go): the types the container service, the API routes, the
// bridge driver, the nftables rules and the embedded DNS share. Change it
// only with all of them in mind.

// Network is one network as berthd records it.
type Network struct {
	ID       string // 64 hex digits
	Name     string // "bridge", "host", "none" are predefined
	Driver   string // "bridge", "host", "null", later "macvlan", "ipvlan", "vlan", "phys", "cni:…", plugins
	Scope    string // "local"
	Created  time.Time
	Internal bool // no outbound NAT, no route out of the network
	// Attachable, Ingress, ConfigOnly, ConfigFrom: not supported (refused at create).
	Subnet  netip.Prefix // IPv4 for now; zero for host/none
	IPRange netip.Prefix // where dynamic addresses come from, zero: the whole subnet
	Gateway netip.Addr   // the bridge's address; first usable address when not given
	// Bridge is the bridge device on the host ("berth0" for the default
	// network, "br-<id[:12]>" for user networks).
	Bridge     string
	MTU        int
	EnableIPv6 bool // refused at create for now
	Labels     map[string]string
	Options    map[string]string // driver options as given (com.docker.network.bridge.name, …mtu, …enable_icc, …)
	// ICC is inter-container communication on this network (the default
	// bridge's com.docker.network.bridge.enable_icc, default true).
	ICC bool
	// Default is set on the default bridge network ("bridge"): no DNS by
	// name, no aliases, as Docker's.
	Default bool
}

// Attachment is what a container asks of one network: from
// HostConfig.NetworkMode and NetworkingConfig.EndpointsConfig.
type Attachment struct {
	Network string     // name, ID or unique ID prefix, as the user gave it
	Aliases []string   // --network-alias (user networks only)
	IPv4    netip.Addr // --ip: a static address in the subnet; zero: any free one
	MAC     string     // --mac-address; empty: derived from the address
}

// PortBinding is one published port as asked: -p [ip:]host:container[/proto],
// -P (HostPort 0 for every exposed port).
type PortBinding struct {
	Proto         string     // "tcp", "udp" or "sctp"
	HostIP        netip.Addr // zero: every host address (0.0.0.0)
	HostPort      uint16     // 0: a free port from the ephemeral range
	ContainerPort uint16
	// HostPortEnd, when set, makes HostPort..HostPortEnd a range to take
	// the first free port from (-p 8000-8010:80); 0: HostPort alone.
	HostPortEnd uint16
}

// PortMapping is a published port as set up: HostPort is the real one.
type PortMapping struct {
	PortBinding
	ContainerIP netip.Addr
}

// Endpoint is a container's place on one network while it runs.
type Endpoint struct {
	ID            string // 64 hex digits
	NetworkID     string
	NetworkName   string
	ContainerID   string
	ContainerName string // without "/"; resolvable by DNS on user networks
	Aliases       []string
	Address       netip.Prefix // the container's address with the subnet's length
	Gateway       netip.Addr
	MAC           string // "02:42:ac:11:00:02" style
	IfName        string // in the container: eth0, eth1, …
	HostIf        string // host side of the veth pair
	Ports         []PortMapping
	// DNS are the container's --dns servers, which the embedded DNS
	// forwards its queries to instead of the host's resolvers.
	DNS []netip.Addr `json:",omitempty"`
}

// Container is what the container service tells at start: which
// container, where its network namespace is, and what it asked for.
type Container struct {
	ID       string
	Name     string // without "/"
	Hostname string
	// NetNS is a path to the container's network namespace
	// (/proc/<init pid>/ns/net).
	NetNS       string
	Attachments []Attachment // in order; the first gives the default route
	Ports       []PortBinding
	// DNS are the --dns servers: on user networks resolv.conf names the
	// embedded DNS, which forwards what it does not know to these
	// (port 53) rather than to the host's resolvers, as Docker's does.
	DNS []netip.Addr
}

// Joined is what Attach did: the endpoints, in the attachments' order,
// and the resolvers the container's resolv.conf should name (the
// embedded DNS on user networks; empty: the host's).
type Joined struct {
	Endpoints   []Endpoint
	Nameservers []netip.Addr
}

// ContainerNetworks is what the container service needs of the network
// service (network.Service implements it; daemon/containers declares
// its own copy of the methods it uses).
type ContainerNetworks interface {
	// Validate checks, at create, that the networks exist and that the
	// request fits them: a static address inside the subnet and free,
	// aliases only on user networks, no ports with mode none/host/
	// container:, valid protocols. It changes nothing.
	Validate(ctx context.Context, mode string, atts []Attachment, ports []PortBinding) error
	// Attach, at start, connects the container to its networks: a veth
	// pair per network (eth0, eth1… inside), addresses, the default
	// route, published ports (host ports reserved: a port in use is an
	// error naming it), DNS names. On error nothing is left behind.
	Attach(ctx context.Context, c Container) (Joined, error)
	// Detach undoes Attach, when the container stops, is killed or
	// crashes, or its record is found dead at restore. It never fails
	// on what is already gone, and leaves no veth, rule or lease.
	Detach(ctx context.Context, containerID string) error
	// Connect adds a running container to one more network (docker
	// network connect); Disconnect takes it off one.
	Connect(ctx context.Context, c Container, att Attachment) (Endpoint, error)
	Disconnect(ctx context.Context, containerID, network string, force bool) error
	// Endpoints are the container's endpoints now (for inspect).
	Endpoints(containerID string) []Endpoint
	// Rename gives the container's endpoints its new name (docker
	// rename): DNS answers the new name, not the old one.
	Rename(ctx context.Context, containerID, name string) error
	// Restore, at berthd's start, keeps the endpoints of the containers
	// still running (ID → network namespace path) and removes all the
	// others' (veths, rules, leases); rules are made again from the
	// records.
	Restore(ctx context.Context, running map[string]string) error
}
