package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Link is the container's side of a Join: the plugin's link and what
// it becomes in the container.
type Link struct {
	SrcName string // the plugin's link, in the host's namespace
	Name    string // its name in the container (DstPrefix + N)
	// Alias marks the link as berth's (IFLA_IFALIAS), so that Unplumb
	// never takes a link of another namespace that came to have the
	// same path.
	Alias   string
	Address netip.Prefix // zero: none
	MAC     net.HardwareAddr
	MTU     int
	// Gateway, when valid, is the default route's next hop.
	Gateway netip.Addr
	Routes  []Route
}

// Route is a static route: via NextHop, or on the link when NextHop is
// zero (RouteConnected).
type Route struct {
	Dst     netip.Prefix
	NextHop netip.Addr
}

// LinkOf checks a Join answer and makes the Link of the container's
// interface number index (DstPrefix + index). defaultRoute says whether
// the plugin's gateway becomes the default route.
func LinkOf(j *JoinResponse, index int, defaultRoute bool) (Link, error) {
	if j.InterfaceName == nil || j.InterfaceName.SrcName == "" {
		return Link{}, joinErr("no InterfaceName.SrcName")
	}
	l := Link{SrcName: j.InterfaceName.SrcName, Name: fmt.Sprintf("%s%d", j.InterfaceName.DstPrefix, index)}
	if !validIfName(l.SrcName) || j.InterfaceName.DstPrefix == "" || !validIfName(l.Name) {
		return Link{}, joinErr(fmt.Sprintf("invalid interface names %q, %q", l.SrcName, j.InterfaceName.DstPrefix))
	}
	if j.Gateway != "" && defaultRoute {
		gw, err := netip.ParseAddr(j.Gateway)
		if err != nil || !gw.Is4() {
			return Link{}, joinErr(fmt.Sprintf("invalid Gateway %q", j.Gateway))
		}
		l.Gateway = gw
	}
	for _, r := range j.StaticRoutes {
		dst, err := netip.ParsePrefix(r.Destination)
		if err != nil {
			return Link{}, joinErr(fmt.Sprintf("invalid route destination %q", r.Destination))
		}
		rt := Route{Dst: dst.Masked()}
		switch r.RouteType {
		case RouteConnected:
		case RouteNextHop:
			if rt.NextHop, err = netip.ParseAddr(r.NextHop); err != nil {
				return Link{}, joinErr(fmt.Sprintf("invalid route next hop %q", r.NextHop))
			}
		default:
			return Link{}, joinErr(fmt.Sprintf("invalid route type %d", r.RouteType))
		}
		l.Routes = append(l.Routes, rt)
	}
	return l, nil
}

func joinErr(msg string) error {
	return fmt.Errorf("join answer: %s: %w", msg, errdefs.ErrInvalidArgument)
}

func validIfName(n string) bool {
	return n != "" && len(n) <= 15 && n != "." && n != ".." && !strings.ContainsAny(n, "/: \t\n\x00")
}

// handles opens netlink handles in the host's namespace (hostNS, ""
// the process's) and in the container's.
func handles(hostNS, ctrNS string) (host, ctr *netlink.Handle, hostFd, ctrFd netns.NsHandle, err error) {
	if hostNS == "" {
		hostNS = "/proc/self/ns/net"
	}
	if hostFd, err = netns.GetFromPath(hostNS); err != nil {
		return nil, nil, -1, -1, fmt.Errorf("open network namespace %s: %w", hostNS, err)
	}
	if ctrFd, err = netns.GetFromPath(ctrNS); err != nil {
		hostFd.Close()
		return nil, nil, -1, -1, fmt.Errorf("open network namespace %s: %w", ctrNS, err)
	}
	if host, err = netlink.NewHandleAt(hostFd); err == nil {
		if ctr, err = netlink.NewHandleAt(ctrFd); err != nil {
			host.Close()
		}
	}
	if err != nil {
		hostFd.Close()
		ctrFd.Close()
		return nil, nil, -1, -1, fmt.Errorf("netlink: %w", err)
	}
	return host, ctr, hostFd, ctrFd, nil
}

// Plumb moves the plugin's link into the container's namespace at netns
// and configures it. On error the link is back in the host's namespace
// under its own name, for the plugin to remove.
func Plumb(hostNS, ctrNS string, l Link) (err error) {
	host, ctr, hostFd, ctrFd, err := handles(hostNS, ctrNS)
	if err != nil {
		return err
	}
	defer func() { host.Close(); ctr.Close(); hostFd.Close(); ctrFd.Close() }()
	link, err := host.LinkByName(l.SrcName)
	if err != nil {
		return fmt.Errorf("plugin's interface %s: %w", l.SrcName, err)
	}
	if err := host.LinkSetDown(link); err != nil {
		return fmt.Errorf("set %s down: %w", l.SrcName, err)
	}
	if err := host.LinkSetNsFd(link, int(ctrFd)); err != nil {
		return fmt.Errorf("move %s into %s: %w", l.SrcName, ctrNS, err)
	}
	defer func() {
		if err != nil {
			moveBack(ctr, hostFd, l.SrcName, l.Name)
		}
	}()
	if link, err = ctr.LinkByName(l.SrcName); err != nil {
		return fmt.Errorf("%s in %s: %w", l.SrcName, ctrNS, err)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"rename to " + l.Name, func() error { return ctr.LinkSetName(link, l.Name) }},
		{"set alias", func() error { return ctr.LinkSetAlias(link, l.Alias) }},
		{"set MAC", func() error {
			if len(l.MAC) == 0 {
				return nil
			}
			return ctr.LinkSetHardwareAddr(link, l.MAC)
		}},
		{"set MTU", func() error {
			if l.MTU == 0 {
				return nil
			}
			return ctr.LinkSetMTU(link, l.MTU)
		}},
		{"add address", func() error {
			if !l.Address.IsValid() {
				return nil
			}
			return ctr.AddrAdd(link, &netlink.Addr{IPNet: ipNet(l.Address)})
		}},
		{"set up", func() error { return ctr.LinkSetUp(link) }},
		{"add routes", func() error { return addRoutes(ctr, link, l) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("interface %s: %s: %w", l.SrcName, s.what, err)
		}
	}
	return nil
}

// addRoutes adds the static routes (those on the link first) and the
// default route.
func addRoutes(h *netlink.Handle, link netlink.Link, l Link) error {
	idx := link.Attrs().Index
	for _, connected := range []bool{true, false} {
		for _, r := range l.Routes {
			if r.NextHop.IsValid() == connected {
				continue
			}
			rt := &netlink.Route{LinkIndex: idx, Dst: ipNet(r.Dst)}
			if connected {
				rt.Scope = netlink.SCOPE_LINK
			} else {
				rt.Gw = r.NextHop.AsSlice()
			}
			if err := h.RouteAdd(rt); err != nil {
				return fmt.Errorf("route %s: %w", r.Dst, err)
			}
		}
	}
	if l.Gateway.IsValid() {
		if err := h.RouteAdd(&netlink.Route{LinkIndex: idx, Gw: l.Gateway.AsSlice()}); err != nil {
			return fmt.Errorf("default route via %s: %w", l.Gateway, err)
		}
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// moveBack puts the container's link name back in the host's namespace
// as srcName.
func moveBack(ctr *netlink.Handle, hostFd netns.NsHandle, srcName, name string) error {
	link, err := ctr.LinkByName(name)
	if err != nil {
		if link, err = ctr.LinkByName(srcName); err != nil {
			return nil
		}
	}
	ctr.LinkSetDown(link)
	if link.Attrs().Name != srcName {
		if err := ctr.LinkSetName(link, srcName); err != nil {
			return fmt.Errorf("rename %s to %s: %w", name, srcName, err)
		}
	}
	if err := ctr.LinkSetNsFd(link, int(hostFd)); err != nil {
		return fmt.Errorf("move %s back: %w", srcName, err)
	}
	return nil
}

// Unplumb moves the container's link name, if it is there and carries
// alias, back to the host's namespace as srcName. A namespace or link
// already gone is no error (the link went with the namespace).
func Unplumb(hostNS, ctrNS, name, alias, srcName string) error {
	host, ctr, hostFd, ctrFd, err := handles(hostNS, ctrNS)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer func() { host.Close(); ctr.Close(); hostFd.Close(); ctrFd.Close() }()
	link, err := ctr.LinkByName(name)
	if err != nil || link.Attrs().Alias != alias {
		return nil
	}
	return moveBack(ctr, hostFd, srcName, name)
}

// parsePrefix parses an address with its prefix length ("10.0.0.2/24").
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return p, nil
}
