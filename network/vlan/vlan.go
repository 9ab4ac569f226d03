package vlan

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/internal/ifconf"
)

// Driver options.
const (
	OptParent = "parent"
	OptVLAN   = "vlan"
)

// Driver makes 802.1q sub-interfaces of parents in one network namespace
// (the service's) for containers. It is safe for concurrent use.
type Driver struct {
	host *ifconf.NS
}

var _ network.Driver = (*Driver)(nil)

// New returns a driver whose parents are in the network namespace at
// path ("" is the calling thread's).
func New(path string) (*Driver, error) {
	ns, err := ifconf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vlan driver: %w", err)
	}
	return &Driver{host: ns}, nil
}

// Close releases the driver's netlink socket.
func (d *Driver) Close() { d.host.Close() }

func vlanID(n *network.Network) (int, error) {
	v, ok := n.Options[OptVLAN]
	if !ok {
		return 0, fmt.Errorf("-o vlan is required: the VLAN ID, 1 to 4094: %w", errdefs.ErrInvalidArgument)
	}
	id, err := strconv.Atoi(v)
	if err != nil || id < 1 || id > 4094 {
		return 0, fmt.Errorf("vlan id must be between 1-4094, received: %s: %w", v, errdefs.ErrInvalidArgument)
	}
	return id, nil
}

// CheckNetwork checks -o parent (an existing link) and -o vlan.
func (d *Driver) CheckNetwork(n *network.Network) error {
	if err := ifconf.CheckOptions("vlan", n.Options, OptParent, OptVLAN); err != nil {
		return err
	}
	if n.Internal {
		return fmt.Errorf("--internal is not supported by the vlan driver: a container on it is on the VLAN itself: %w", errdefs.ErrInvalidArgument)
	}
	if !n.Subnet.IsValid() {
		return fmt.Errorf("the vlan driver needs a subnet: %w", errdefs.ErrInvalidArgument)
	}
	if n.Options[OptParent] != "" {
		if _, err := vlanID(n); err != nil {
			return err
		}
	}
	_, err := d.host.RequireParent(n.Options[OptParent], "the host interface carrying the VLAN", false)
	return err
}

// CreateNetwork brings the parent up: a sub-interface passes no traffic
// over a parent that is down.
func (d *Driver) CreateNetwork(n *network.Network) error {
	l, err := d.parent(n)
	if err != nil {
		return err
	}
	if err := d.host.Handle.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", l.Attrs().Name, err)
	}
	return nil
}

func (d *Driver) parent(n *network.Network) (netlink.Link, error) {
	l, err := d.host.Parent(n.Options[OptParent])
	if err == nil && l == nil {
		err = fmt.Errorf("parent interface %s of network %s is missing: %w", n.Options[OptParent], n.Name, errdefs.ErrNotFound)
	}
	return l, err
}

// DeleteNetwork has nothing to remove: the parent is the host's.
func (d *Driver) DeleteNetwork(*network.Network) error { return nil }

func mark(id string) string { return "berth:" + id }

// Join makes the VLAN's sub-interface of the parent in the container's
// namespace as ep.IfName.
func (d *Driver) Join(n *network.Network, ep *network.Endpoint, netns string, defaultRoute bool) error {
	id, err := vlanID(n)
	if err != nil {
		return err
	}
	parent, err := d.parent(n)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.ParentIndex = ep.IfName, parent.Attrs().Index
	if hw, err := net.ParseMAC(ep.MAC); err == nil {
		attrs.HardwareAddr = hw
	}
	wrap := func(err error) error {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("VLAN %d of %s is in use by another container: a vlan network takes one container at a time: %w", id, parent.Attrs().Name, errdefs.ErrConflict)
		}
		return ifconf.VLANError("create 802.1q sub-interface "+ep.IfName+" of "+parent.Attrs().Name, err)
	}
	return d.host.AddIn(netns, &netlink.Vlan{LinkAttrs: attrs, VlanId: id}, wrap, mark(ep.ID),
		ifconf.Config{Addresses: ifconf.Addrs(ep.Address), Gateway: ep.Gateway, DefaultRoute: defaultRoute})
}

// Leave deletes the container's sub-interface if its namespace is still
// there (else it went with it).
func (d *Driver) Leave(_ *network.Network, ep *network.Endpoint, netns string) error {
	return ifconf.DeleteByAlias(netns, mark(ep.ID))
}
