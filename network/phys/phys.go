package phys

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/internal/ifconf"
)

// OptParent names the host interface a network hands to its container.
const OptParent = "parent"

// Options configure the driver.
type Options struct {
	// NetNS is the service's network namespace, where the parents are
	// ("": the calling thread's).
	NetNS string
	// PinDir is where the containers' namespaces are pinned by bind
	// mounts while they hold a parent (berthd: EXEC-ROOT/netns-phys).
	PinDir string
}

// Driver moves host interfaces into containers and back. It is safe for
// concurrent use.
type Driver struct {
	host *ifconf.NS
	pins string
}

var (
	_ network.Driver         = (*Driver)(nil)
	_ network.SubnetOptional = (*Driver)(nil)
)

// New returns a driver; it makes PinDir.
func New(o Options) (*Driver, error) {
	if o.PinDir == "" {
		return nil, fmt.Errorf("phys driver: a pin directory is required: %w", errdefs.ErrInvalidArgument)
	}
	if err := os.MkdirAll(o.PinDir, 0o700); err != nil {
		return nil, fmt.Errorf("phys driver: %w", err)
	}
	ns, err := ifconf.Open(o.NetNS)
	if err != nil {
		return nil, fmt.Errorf("phys driver: %w", err)
	}
	return &Driver{host: ns, pins: o.PinDir}, nil
}

// Close releases the driver's netlink socket.
func (d *Driver) Close() { d.host.Close() }

// SubnetOptional: without --subnet a container keeps the parent's own
// addresses.
func (d *Driver) SubnetOptional() bool { return true }

// CheckNetwork checks -o parent: an existing link that is not loopback
// or a bridge.
func (d *Driver) CheckNetwork(n *network.Network) error {
	if err := ifconf.CheckOptions("phys", n.Options, OptParent); err != nil {
		return err
	}
	if n.Internal {
		return fmt.Errorf("--internal is not supported by the phys driver: the container owns the interface and its wire: %w", errdefs.ErrInvalidArgument)
	}
	parent := n.Options[OptParent]
	l, err := d.host.RequireParent(parent, "the host interface to hand to the container", false)
	if err != nil {
		return err
	}
	return d.handable(parent, l)
}

// handable refuses loopback, bridges, links enslaved to a bridge or a
// bond (a bridge port may be another container's veth end, which would
// give the container a wire into that one's namespace past every rule),
// and the link of the host's default route (its uplink: handing it over
// would cut the host off).
func (d *Driver) handable(name string, l netlink.Link) error {
	if err := plainLink(name, l); err != nil {
		return err
	}
	routes, err := d.host.Handle.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: l.Attrs().Index}, netlink.RT_FILTER_OIF)
	if err != nil {
		return fmt.Errorf("routes of %s: %w", name, err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
			return fmt.Errorf("parent %s carries the host's default route: it cannot be handed to a container: %w", name, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func plainLink(name string, l netlink.Link) error {
	if l.Attrs().Flags&net.FlagLoopback != 0 || l.Type() == "bridge" {
		return fmt.Errorf("parent %s is a %s: it cannot be handed to a container: %w", name, l.Type(), errdefs.ErrInvalidArgument)
	}
	if l.Attrs().MasterIndex != 0 {
		return fmt.Errorf("parent %s is a port of another link (index %d): it cannot be handed to a container: %w", name, l.Attrs().MasterIndex, errdefs.ErrInvalidArgument)
	}
	return nil
}

// CreateNetwork and DeleteNetwork have nothing to do: the parent is the
// host's, and stays where it is until a container joins.
func (d *Driver) CreateNetwork(*network.Network) error { return nil }

func (d *Driver) DeleteNetwork(*network.Network) error { return nil }

// mark is the alias prefix of an endpoint's link.
func mark(epID string) string { return "berth:" + epID + " " }

// tempName is the link's name while it moves between namespaces, where
// its own name or ethN may be taken.
func tempName(epID string) string { return "phys" + epID[:min(11, len(epID))] }

func (d *Driver) pin(epID string) string { return filepath.Join(d.pins, epID) }

// Join moves the parent into the container (steps numbered).
func (d *Driver) Join(n *network.Network, ep *network.Endpoint, netns string, defaultRoute bool) (err error) {
	name := n.Options[OptParent]
	l, err := d.host.Parent(name)
	if err != nil {
		return err
	}
	if l == nil {
		return fmt.Errorf("parent interface %s of network %s is not on the host (another container has it?): %w", name, n.Name, errdefs.ErrConflict)
	}
	if err := d.handable(name, l); err != nil {
		return err
	}
	addrs, err := d.host.Addresses(l)
	if err != nil {
		return err
	}
	// 1. Record on the link what Leave needs to give it back.
	var as []string
	for _, a := range addrs {
		as = append(as, a.String())
	}
	if err := d.host.Handle.LinkSetAlias(l, mark(ep.ID)+name+" "+strings.Join(as, ",")); err != nil {
		return fmt.Errorf("mark %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			d.Leave(n, ep, netns)
		}
	}()
	// 2. Pin the container's namespace, so the link outlives its
	// processes until Leave takes it back.
	if err := d.pinNS(ep.ID, netns); err != nil {
		return err
	}
	ctr, err := ifconf.Open(netns)
	if err != nil {
		return err
	}
	defer ctr.Close()
	// 3. Down, a name free in both namespaces, then the move (which
	// drops its addresses).
	if err := d.host.Handle.LinkSetDown(l); err != nil {
		return fmt.Errorf("bring down %s: %w", name, err)
	}
	if err := d.host.Handle.LinkSetName(l, tempName(ep.ID)); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	if err := d.host.Handle.LinkSetNsFd(l, int(ctr.Fd)); err != nil {
		return fmt.Errorf("move %s into %s: %w", name, netns, err)
	}
	// 4. In the container: ethN, its addresses, up, the route.
	cl, err := ctr.Handle.LinkByName(tempName(ep.ID))
	if err != nil {
		return fmt.Errorf("look up %s in %s: %w", name, netns, err)
	}
	if err := ctr.Handle.LinkSetName(cl, ep.IfName); err != nil {
		return fmt.Errorf("rename %s to %s: %w", name, ep.IfName, err)
	}
	use := ifconf.Addrs(ep.Address)
	if len(use) == 0 {
		use = addrs
		if len(addrs) > 0 {
			ep.Address = addrs[0]
		}
	}
	ep.HostIf, ep.MAC = name, cl.Attrs().HardwareAddr.String()
	return ctr.Setup(cl, ifconf.Config{Addresses: use, Gateway: ep.Gateway, DefaultRoute: defaultRoute})
}

// pinNS bind-mounts the namespace at netns on PinDir/<epID>.
func (d *Driver) pinNS(epID, netns string) error {
	p := d.pin(epID)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("pin network namespace: %w", err)
	}
	f.Close()
	if err := unix.Mount(netns, p, "", unix.MS_BIND, ""); err != nil {
		os.Remove(p)
		return fmt.Errorf("pin network namespace %s on %s: %w", netns, p, err)
	}
	return nil
}

// unpin removes the pin of an endpoint's namespace, if any.
func (d *Driver) unpin(epID string) error {
	p := d.pin(epID)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unpin network namespace %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unpin network namespace: %w", err)
	}
	return nil
}

// Leave gives the parent back to the host: from the pinned namespace
// (or netns, without a pin) to the service's, under its own name, with
// its addresses, up; then the pin goes.
func (d *Driver) Leave(_ *network.Network, ep *network.Endpoint, netns string) error {
	from := netns
	if _, err := os.Stat(d.pin(ep.ID)); err == nil {
		from = d.pin(ep.ID)
	}
	if from != "" {
		if err := d.takeBack(from, ep.ID); err != nil {
			return err
		}
	}
	if err := d.reinstate(ep.ID); err != nil {
		return err
	}
	return d.unpin(ep.ID)
}

// byMark finds the endpoint's link in ns; nil when it is not there.
func byMark(ns *ifconf.NS, epID string) (netlink.Link, error) {
	links, err := ns.Handle.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", ns.Path, err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Alias, mark(epID)) {
			return l, nil
		}
	}
	return nil, nil
}

// takeBack moves the endpoint's link, if it is in the namespace at path,
// to the service's namespace.
func (d *Driver) takeBack(path, epID string) error {
	ctr, err := ifconf.Open(path)
	if err != nil {
		return nil // the namespace is gone, and a virtual link with it
	}
	defer ctr.Close()
	l, err := byMark(ctr, epID)
	if err != nil || l == nil {
		return err
	}
	if err := ctr.Handle.LinkSetDown(l); err != nil {
		return fmt.Errorf("bring down %s in %s: %w", l.Attrs().Name, path, err)
	}
	if err := ctr.Handle.LinkSetName(l, tempName(epID)); err != nil {
		return fmt.Errorf("rename %s in %s: %w", l.Attrs().Name, path, err)
	}
	if err := ctr.Handle.LinkSetNsFd(l, int(d.host.Fd)); err != nil {
		return fmt.Errorf("move %s back from %s: %w", l.Attrs().Name, path, err)
	}
	return nil
}

// reinstate gives the endpoint's link, if it is in the service's
// namespace, its name, addresses and state back, and clears the mark.
func (d *Driver) reinstate(epID string) error {
	l, err := byMark(d.host, epID)
	if err != nil || l == nil {
		return err
	}
	fields := strings.Split(strings.TrimPrefix(l.Attrs().Alias, mark(epID)), " ")
	name := fields[0]
	if l.Attrs().Name != name {
		if err := d.host.Handle.LinkSetDown(l); err != nil {
			return fmt.Errorf("bring down %s: %w", l.Attrs().Name, err)
		}
		if err := d.host.Handle.LinkSetName(l, name); err != nil {
			return fmt.Errorf("rename %s back to %s: %w", l.Attrs().Name, name, err)
		}
	}
	if len(fields) > 1 && fields[1] != "" {
		for _, s := range strings.Split(fields[1], ",") {
			a, err := netip.ParsePrefix(s)
			if err != nil {
				continue
			}
			if err := d.host.Handle.AddrAdd(l, &netlink.Addr{IPNet: ifconf.IPNet(a)}); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("give %s its address %s back: %w", name, a, err)
			}
		}
	}
	if err := d.host.Handle.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", name, err)
	}
	if err := d.host.Handle.LinkSetAlias(l, ""); err != nil {
		return fmt.Errorf("unmark %s: %w", name, err)
	}
	return nil
}
