package macvlan

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/internal/ifconf"
)

// Driver options, as Docker's.
const (
	OptParent = "parent"
	OptMode   = "macvlan_mode"
)

var modes = map[string]netlink.MacvlanMode{
	"bridge":   netlink.MACVLAN_MODE_BRIDGE,
	"private":  netlink.MACVLAN_MODE_PRIVATE,
	"vepa":     netlink.MACVLAN_MODE_VEPA,
	"passthru": netlink.MACVLAN_MODE_PASSTHRU,
}

// Driver makes macvlan links of parents in one network namespace (the
// service's). It is safe for concurrent use.
type Driver struct {
	host *ifconf.NS
}

var _ network.Driver = (*Driver)(nil)

// New returns a driver whose parents are in the network namespace at
// path ("" is the calling thread's).
func New(path string) (*Driver, error) {
	ns, err := ifconf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("macvlan driver: %w", err)
	}
	return &Driver{host: ns}, nil
}

// Close releases the driver's netlink socket.
func (d *Driver) Close() { d.host.Close() }

// CheckNetwork checks -o parent and -o macvlan_mode, and that the parent
// exists (or, for NAME.VLAN, that NAME does).
func (d *Driver) CheckNetwork(n *network.Network) error {
	mode := n.Options[OptMode]
	if mode == "" {
		mode = "bridge"
	}
	if _, ok := modes[mode]; !ok {
		return fmt.Errorf("requested macvlan mode '%s' is not valid, 'bridge' mode is the macvlan driver default: %w", mode, errdefs.ErrInvalidArgument)
	}
	if err := ifconf.CheckOptions("macvlan", n.Options, OptParent, OptMode); err != nil {
		return err
	}
	if n.Internal {
		return fmt.Errorf("--internal is not supported by the macvlan driver: a container on it is on the parent's wire: %w", errdefs.ErrInvalidArgument)
	}
	if !n.Subnet.IsValid() {
		return fmt.Errorf("the macvlan driver needs a subnet: %w", errdefs.ErrInvalidArgument)
	}
	return checkParent(d.host, n.Options[OptParent])
}

// checkParent checks that parent names an existing link, or NAME.VLAN
// with NAME existing and VLAN in 1..4094.
func checkParent(host *ifconf.NS, parent string) error {
	l, err := host.RequireParent(parent, "the host interface the containers' links hang from", true)
	if err != nil || l != nil {
		return err
	}
	base, id, ok := splitVLAN(parent)
	if !ok {
		return fmt.Errorf("-o parent interface was not found on the host: %s: %w", parent, errdefs.ErrInvalidArgument)
	}
	if id < 1 || id > 4094 {
		return fmt.Errorf("vlan id must be between 1-4094, received: %d: %w", id, errdefs.ErrInvalidArgument)
	}
	if l, err := host.Parent(base); err != nil || l == nil {
		if err == nil {
			err = fmt.Errorf("-o parent interface was not found on the host: %s: %w", base, errdefs.ErrInvalidArgument)
		}
		return err
	}
	return nil
}

// splitVLAN splits "eth0.10" into eth0 and 10.
func splitVLAN(parent string) (string, int, bool) {
	i := strings.LastIndexByte(parent, '.')
	if i <= 0 {
		return "", 0, false
	}
	id, err := strconv.Atoi(parent[i+1:])
	if err != nil {
		return "", 0, false
	}
	return parent[:i], id, true
}

func mark(id string) string { return "berth:" + id }

// CreateNetwork makes a missing NAME.VLAN parent (marked as the
// network's) and brings the parent up.
func (d *Driver) CreateNetwork(n *network.Network) error {
	return ensureParent(d.host, n.Options[OptParent], mark(n.ID))
}

func ensureParent(host *ifconf.NS, parent, alias string) error {
	l, err := host.Parent(parent)
	if err != nil {
		return err
	}
	if l == nil {
		base, id, ok := splitVLAN(parent)
		if !ok {
			return fmt.Errorf("-o parent interface was not found on the host: %s: %w", parent, errdefs.ErrNotFound)
		}
		bl, err := host.Parent(base)
		if err != nil {
			return err
		}
		if bl == nil {
			return fmt.Errorf("-o parent interface was not found on the host: %s: %w", base, errdefs.ErrNotFound)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.ParentIndex = parent, bl.Attrs().Index
		v := &netlink.Vlan{LinkAttrs: attrs, VlanId: id}
		if err := host.Handle.LinkAdd(v); err != nil && !errors.Is(err, unix.EEXIST) {
			return ifconf.VLANError("create 802.1q sub-interface "+parent, err)
		}
		if l, err = host.Handle.LinkByName(parent); err != nil {
			return fmt.Errorf("look up %s: %w", parent, err)
		}
		if err := host.Handle.LinkSetAlias(l, alias); err != nil {
			host.Handle.LinkDel(l)
			return fmt.Errorf("mark %s: %w", parent, err)
		}
	}
	if err := host.Handle.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", parent, err)
	}
	return nil
}

// DeleteNetwork removes the parent sub-interface if the network made it.
func (d *Driver) DeleteNetwork(n *network.Network) error {
	l, err := d.host.Parent(n.Options[OptParent])
	if err != nil || l == nil || l.Attrs().Alias != mark(n.ID) {
		return err
	}
	if err := d.host.Handle.LinkDel(l); err != nil && !ifconf.NotFound(err) {
		return fmt.Errorf("delete %s: %w", l.Attrs().Name, err)
	}
	return nil
}

// Join makes the container's macvlan link in its namespace.
func (d *Driver) Join(n *network.Network, ep *network.Endpoint, netns string, defaultRoute bool) (err error) {
	mode := modes[n.Options[OptMode]]
	if n.Options[OptMode] == "" {
		mode = netlink.MACVLAN_MODE_BRIDGE
	}
	parent, err := d.host.Parent(n.Options[OptParent])
	if err != nil {
		return err
	}
	if parent == nil {
		return fmt.Errorf("parent interface %s of network %s is missing: %w", n.Options[OptParent], n.Name, errdefs.ErrNotFound)
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.ParentIndex = ep.IfName, parent.Attrs().Index
	if hw, err := net.ParseMAC(ep.MAC); err == nil && mode != netlink.MACVLAN_MODE_PASSTHRU {
		attrs.HardwareAddr = hw
	}
	if mode == netlink.MACVLAN_MODE_PASSTHRU {
		ep.MAC = parent.Attrs().HardwareAddr.String() // passthru keeps the parent's
	}
	wrap := func(err error) error {
		return fmt.Errorf("create macvlan %s of %s: %w", ep.IfName, parent.Attrs().Name, err)
	}
	return d.host.AddIn(netns, &netlink.Macvlan{LinkAttrs: attrs, Mode: mode}, wrap, mark(ep.ID),
		ifconf.Config{Addresses: ifconf.Addrs(ep.Address), Gateway: ep.Gateway, DefaultRoute: defaultRoute})
}

// Leave deletes the container's link if its namespace is still there.
func (d *Driver) Leave(_ *network.Network, ep *network.Endpoint, netns string) error {
	return ifconf.DeleteByAlias(netns, mark(ep.ID))
}
