package ifconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NS is a network namespace opened by path, with a netlink handle in it.
type NS struct {
	Path   string
	Handle *netlink.Handle
	Fd     netns.NsHandle
}

// Open opens the namespace at path; "" is the calling thread's.
func Open(path string) (*NS, error) {
	var (
		fd  netns.NsHandle
		err error
	)
	if path == "" {
		fd, err = netns.Get()
	} else {
		fd, err = netns.GetFromPath(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("open netlink in %s: %w", path, err)
	}
	return &NS{Path: path, Handle: h, Fd: fd}, nil
}

// Close releases the handle and the namespace.
func (n *NS) Close() {
	n.Handle.Close()
	n.Fd.Close()
}

// Config is a container interface's setup.
type Config struct {
	Addresses    []netip.Prefix
	Gateway      netip.Addr
	DefaultRoute bool // "default via Gateway"
}

// Setup gives the link its addresses, brings it up and adds the default
// route when asked.
func (n *NS) Setup(l netlink.Link, c Config) error {
	name := l.Attrs().Name
	for _, a := range c.Addresses {
		if err := n.Handle.AddrAdd(l, &netlink.Addr{IPNet: IPNet(a)}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s to %s: %w", a, name, err)
		}
	}
	if err := n.Handle.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", name, err)
	}
	if c.DefaultRoute && c.Gateway.IsValid() {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.IP(c.Gateway.AsSlice()), Scope: netlink.SCOPE_UNIVERSE}
		if err := n.Handle.RouteAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add default route via %s on %s: %w", c.Gateway, name, err)
		}
	}
	return nil
}

// ByAlias is the link whose alias is alias, nil when there is none.
func (n *NS) ByAlias(alias string) (netlink.Link, error) {
	links, err := n.Handle.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", n.Path, err)
	}
	for _, l := range links {
		if l.Attrs().Alias == alias {
			return l, nil
		}
	}
	return nil, nil
}

// DeleteByAlias deletes the link marked alias in the namespace at path,
// if the namespace and the link are still there.
func DeleteByAlias(path, alias string) error {
	if path == "" {
		return nil
	}
	n, err := Open(path)
	if err != nil {
		return nil // the namespace went with its container, and the link with it
	}
	defer n.Close()
	l, err := n.ByAlias(alias)
	if err != nil || l == nil {
		return err
	}
	if err := n.Handle.LinkDel(l); err != nil && !NotFound(err) {
		return fmt.Errorf("delete %s in %s: %w", l.Attrs().Name, path, err)
	}
	return nil
}

// Addresses are the link's IPv4 addresses with their lengths.
func (n *NS) Addresses(l netlink.Link) ([]netip.Prefix, error) {
	as, err := n.Handle.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", l.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range as {
		ip, ok := netip.AddrFromSlice(a.IPNet.IP)
		if !ok {
			continue
		}
		ones, _ := a.IPNet.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// IPNet converts a prefix (an address with its length) for netlink.
func IPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// NotFound reports whether err means a missing link.
func NotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) ||
		strings.Contains(err.Error(), "not found")
}

// ValidName reports whether s can name a link (IFNAMSIZ, the kernel's
// dev_valid_name).
func ValidName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsAny(s, "/: \t\n")
}

// Parent looks up a parent interface named in -o parent=NAME: a missing
// one is nil, no error.
func (n *NS) Parent(name string) (netlink.Link, error) {
	l, err := n.Handle.LinkByName(name)
	if NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up parent interface %s: %w", name, err)
	}
	return l, nil
}

// Adopt marks the link name, just made in this namespace, with alias and
// sets it up as c says; on error it deletes the link.
func (n *NS) Adopt(name, alias string, c Config) (err error) {
	l, err := n.Handle.LinkByName(name)
	if err != nil {
		return fmt.Errorf("look up %s in %s: %w", name, n.Path, err)
	}
	defer func() {
		if err != nil {
			n.Handle.LinkDel(l)
		}
	}()
	if err := n.Handle.LinkSetAlias(l, alias); err != nil {
		return fmt.Errorf("mark %s: %w", name, err)
	}
	return n.Setup(l, c)
}

// AddIn adds l, a link of a parent in n named as the container's
// interface, to the container's namespace at path, then adopts it there
// (see Adopt). wrap words a failed LinkAdd.
func (n *NS) AddIn(path string, l netlink.Link, wrap func(error) error, alias string, c Config) error {
	ctr, err := Open(path)
	if err != nil {
		return err
	}
	defer ctr.Close()
	l.Attrs().Namespace = netlink.NsFd(ctr.Fd)
	if err := n.Handle.LinkAdd(l); err != nil {
		return wrap(err)
	}
	return ctr.Adopt(l.Attrs().Name, alias, c)
}

// Addrs is a one-address list, empty for the zero prefix.
func Addrs(p netip.Prefix) []netip.Prefix {
	if !p.IsValid() {
		return nil
	}
	return []netip.Prefix{p}
}

// VLANError explains a failure to make an 802.1q link: a kernel without
// VLAN support answers EOPNOTSUPP.
func VLANError(what string, err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%s: this kernel has no 802.1q VLAN support (CONFIG_VLAN_8021Q, module 8021q): %w", what, errdefs.ErrNotImplemented)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CheckOptions refuses driver options other than known and Docker's
// generic ones (com.docker.network.*), which are kept but unused.
func CheckOptions(driver string, opts map[string]string, known ...string) error {
	for k := range opts {
		if !slices.Contains(known, k) && !strings.HasPrefix(k, "com.docker.network.") {
			return fmt.Errorf("unknown %s option %q (want %s): %w", driver, k, strings.Join(known, ", "), errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// RequireParent checks -o parent: given (what says what it is for), a
// valid name, and, unless missingOK, an existing link, which it returns.
func (n *NS) RequireParent(name, what string, missingOK bool) (netlink.Link, error) {
	if name == "" {
		return nil, fmt.Errorf("-o parent is required: %s: %w", what, errdefs.ErrInvalidArgument)
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid parent interface name %q: %w", name, errdefs.ErrInvalidArgument)
	}
	l, err := n.Parent(name)
	if err == nil && l == nil && !missingOK {
		err = fmt.Errorf("-o parent interface was not found on the host: %s: %w", name, errdefs.ErrInvalidArgument)
	}
	return l, err
}
