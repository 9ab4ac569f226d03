package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/network"
)

// NetworkDriver is berth's network driver over one remote plugin: the
// service's networks and endpoints of that driver are the plugin's, with
// berth's IPAM giving the addresses (IPv4Data, the endpoint's Interface)
// as Docker's default IPAM does.
//
// Networks and endpoints the plugin made are marked by files in a state
// directory, so CreateNetwork at each start of the service does not ask
// the plugin again (a Docker plugin keeps its networks across daemon
// restarts), and Leave of what is gone already succeeds without the
// plugin.
type NetworkDriver struct {
	p      *Plugins
	name   string
	hostNS string
	state  string

	// mu serializes Join and Leave: the container service and the
	// network service may both undo an endpoint at berthd's start.
	mu sync.Mutex
}

var _ network.Driver = (*NetworkDriver)(nil)

// NetworkDriver is the driver of plugin name: links are taken from the
// host namespace hostNS ("" the process's), marks are kept in stateDir.
func (p *Plugins) NetworkDriver(name, hostNS, stateDir string) *NetworkDriver {
	return &NetworkDriver{p: p, name: name, hostNS: hostNS, state: stateDir}
}

// endpointMark is what Leave needs of a joined endpoint.
type endpointMark struct {
	NetworkID string
	SrcName   string `json:",omitempty"` // set once joined
	Name      string `json:",omitempty"`
}

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (d *NetworkDriver) mark(kind, id string) (string, error) {
	if !hexID.MatchString(id) {
		return "", fmt.Errorf("remote network driver %s: invalid %s id %q: %w", d.name, kind, id, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(d.state, kind, id), nil
}

func (d *NetworkDriver) putMark(kind, id string, v any) error {
	path, err := d.mark(kind, id)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(v)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("remote network driver %s: %w", d.name, err)
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("remote network driver %s: %w", d.name, err)
	}
	return nil
}

// getMark reads a mark into v; false when there is none.
func (d *NetworkDriver) getMark(kind, id string, v any) (bool, error) {
	path, err := d.mark(kind, id)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err == nil && v != nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return false, fmt.Errorf("remote network driver %s: mark %s: %w", d.name, path, err)
	}
	return true, nil
}

func (d *NetworkDriver) dropMark(kind, id string) error {
	path, err := d.mark(kind, id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remote network driver %s: %w", d.name, err)
	}
	return nil
}

// CheckNetwork activates the plugin: a network of a plugin that cannot
// be reached is not created.
func (d *NetworkDriver) CheckNetwork(n *network.Network) error {
	_, err := d.p.Driver(context.Background(), d.name)
	return err
}

// CreateNetwork asks the plugin for the network once.
func (d *NetworkDriver) CreateNetwork(n *network.Network) error {
	if ok, err := d.getMark("networks", n.ID, nil); ok || err != nil {
		return err
	}
	ctx := context.Background()
	drv, err := d.p.Driver(ctx, d.name)
	if err != nil {
		return err
	}
	generic := map[string]string{}
	for k, v := range n.Options {
		generic[k] = v
	}
	req := CreateNetworkRequest{NetworkID: n.ID,
		Options: map[string]any{OptGeneric: generic, OptEnableIPv6: false, OptInternal: n.Internal}}
	if n.Subnet.IsValid() {
		gw := ""
		if n.Gateway.IsValid() {
			gw = fmt.Sprintf("%s/%d", n.Gateway, n.Subnet.Bits())
		}
		req.IPv4Data = []IPAMData{{AddressSpace: "LocalDefault", Pool: n.Subnet.String(), Gateway: gw}}
	}
	if err := drv.CreateNetwork(ctx, req); err != nil {
		return err
	}
	return d.putMark("networks", n.ID, struct{}{})
}

// DeleteNetwork asks the plugin to remove the network it made.
func (d *NetworkDriver) DeleteNetwork(n *network.Network) error {
	if ok, err := d.getMark("networks", n.ID, nil); !ok || err != nil {
		return err
	}
	ctx := context.Background()
	drv, err := d.p.Driver(ctx, d.name)
	if err != nil {
		return err
	}
	if err := drv.DeleteNetwork(ctx, n.ID); err != nil {
		return err
	}
	return d.dropMark("networks", n.ID)
}

// Join is CreateEndpoint, Join, the link into the container, and
// ProgramExternalConnectivity for the endpoint with the default route;
// on error what was done is undone.
func (d *NetworkDriver) Join(n *network.Network, ep *network.Endpoint, netns string, defaultRoute bool) (err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx := context.Background()
	drv, err := d.p.Driver(ctx, d.name)
	if err != nil {
		return err
	}
	in := &EndpointInterface{MacAddress: ep.MAC}
	if ep.Address.IsValid() {
		in.Address = ep.Address.String()
	}
	out, err := drv.CreateEndpoint(ctx, CreateEndpointRequest{NetworkID: n.ID, EndpointID: ep.ID, Interface: in, Options: map[string]any{}})
	if err != nil {
		return err
	}
	mark := endpointMark{NetworkID: n.ID}
	if err := d.putMark("endpoints", ep.ID, mark); err != nil {
		drv.DeleteEndpoint(ctx, n.ID, ep.ID)
		return err
	}
	defer func() {
		if err != nil {
			d.leave(n, ep, netns)
		}
	}()
	if err := d.takeInterface(ep, in, out); err != nil {
		return err
	}
	j, err := drv.Join(ctx, JoinRequest{NetworkID: n.ID, EndpointID: ep.ID, SandboxKey: netns, Options: map[string]any{}})
	if err != nil {
		return err
	}
	idx, _ := strconv.Atoi(strings.TrimPrefix(ep.IfName, "eth"))
	l, err := LinkOf(j, idx, defaultRoute)
	if err != nil {
		return fmt.Errorf("remote network driver %s: %w", d.name, err)
	}
	l.Address, l.Alias = ep.Address, alias(ep.ID)
	if ep.MAC != "" {
		l.MAC, _ = net.ParseMAC(ep.MAC)
	}
	mark.SrcName, mark.Name = l.SrcName, l.Name
	if err := d.putMark("endpoints", ep.ID, mark); err != nil {
		return err
	}
	if err := Plumb(d.hostNS, netns, l); err != nil {
		return fmt.Errorf("remote network driver %s: %w", d.name, err)
	}
	if defaultRoute {
		return drv.ProgramExternalConnectivity(ctx, n.ID, ep.ID, map[string]any{})
	}
	return nil
}

// takeInterface checks the plugin's answer to CreateEndpoint: it may
// give the address and MAC berth did not, never change them (Docker's
// rule).
func (d *NetworkDriver) takeInterface(ep *network.Endpoint, in, out *EndpointInterface) error {
	if out == nil {
		return nil
	}
	if out.Address != "" && out.Address != in.Address {
		if in.Address != "" {
			return fmt.Errorf("remote network driver %s: CreateEndpoint: the plugin changed the address %s to %s: %w", d.name, in.Address, out.Address, errdefs.ErrInvalidArgument)
		}
		p, err := parsePrefix(out.Address)
		if err != nil {
			return fmt.Errorf("remote network driver %s: CreateEndpoint: %w", d.name, err)
		}
		ep.Address = p
	}
	if out.MacAddress != "" && out.MacAddress != in.MacAddress {
		if in.MacAddress != "" {
			return fmt.Errorf("remote network driver %s: CreateEndpoint: the plugin changed the MAC %s to %s: %w", d.name, in.MacAddress, out.MacAddress, errdefs.ErrInvalidArgument)
		}
		hw, err := net.ParseMAC(out.MacAddress)
		if err != nil {
			return fmt.Errorf("remote network driver %s: CreateEndpoint: invalid MAC %q: %w", d.name, out.MacAddress, errdefs.ErrInvalidArgument)
		}
		ep.MAC = hw.String()
	}
	return nil
}

// alias marks a container's link as an endpoint's.
func alias(endpointID string) string { return "berth:" + endpointID[:12] }

// Leave moves the link back to the host, then RevokeExternalConnectivity,
// Leave and DeleteEndpoint, as Docker; an endpoint without its mark is
// gone already. The mark goes once DeleteEndpoint succeeded.
func (d *NetworkDriver) Leave(n *network.Network, ep *network.Endpoint, netns string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.leave(n, ep, netns)
}

func (d *NetworkDriver) leave(n *network.Network, ep *network.Endpoint, netns string) error {
	var mark endpointMark
	if ok, err := d.getMark("endpoints", ep.ID, &mark); !ok || err != nil {
		return err
	}
	if netns != "" && mark.Name != "" {
		if err := Unplumb(d.hostNS, netns, mark.Name, alias(ep.ID), mark.SrcName); err != nil {
			return fmt.Errorf("remote network driver %s: %w", d.name, err)
		}
	}
	ctx := context.Background()
	drv, err := d.p.Driver(ctx, d.name)
	if err != nil {
		return err
	}
	// A plugin that lost the endpoint's join (restarted) may refuse
	// these; DeleteEndpoint decides.
	drv.RevokeExternalConnectivity(ctx, mark.NetworkID, ep.ID)
	drv.Leave(ctx, mark.NetworkID, ep.ID)
	if err := drv.DeleteEndpoint(ctx, mark.NetworkID, ep.ID); err != nil {
		return err
	}
	return d.dropMark("endpoints", ep.ID)
}
