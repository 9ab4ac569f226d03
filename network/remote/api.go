package remote

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/containerd/errdefs"
)

// Driver is one activated network driver plugin.
type Driver struct {
	name    string
	addr    Addr
	http    *http.Client
	timeout time.Duration
	caps    Capabilities
}

// Name is the plugin's name.
func (d *Driver) Name() string { return d.name }

// Capabilities are what GetCapabilities answered.
func (d *Driver) Capabilities() Capabilities { return d.caps }

// Capabilities of a network driver.
type Capabilities struct {
	Scope             string // "local" or "global"
	ConnectivityScope string `json:",omitempty"`
}

// IPAMData is one address pool of a network.
type IPAMData struct {
	AddressSpace string
	Pool         string            // "172.18.0.0/16"
	Gateway      string            // "172.18.0.1/16"
	AuxAddresses map[string]string `json:",omitempty"`
}

// CreateNetworkRequest is NetworkDriver.CreateNetwork's.
type CreateNetworkRequest struct {
	NetworkID string
	Options   map[string]any
	IPv4Data  []IPAMData
	IPv6Data  []IPAMData
}

// Option keys of CreateNetwork and CreateEndpoint, as Docker's.
const (
	OptGeneric      = "com.docker.network.generic" // the -o options, a map
	OptEnableIPv6   = "com.docker.network.enable_ipv6"
	OptInternal     = "com.docker.network.internal"
	OptPortMap      = "com.docker.network.portmap"
	OptExposedPorts = "com.docker.network.endpoint.exposedports"
	OptMacAddress   = "com.docker.network.endpoint.macaddress"
)

// EndpointInterface is an endpoint's address and MAC.
type EndpointInterface struct {
	Address     string `json:",omitempty"` // "172.18.0.2/16"
	AddressIPv6 string `json:",omitempty"`
	MacAddress  string `json:",omitempty"`
}

// CreateEndpointRequest is NetworkDriver.CreateEndpoint's.
type CreateEndpointRequest struct {
	NetworkID  string
	EndpointID string
	Interface  *EndpointInterface
	Options    map[string]any
}

// JoinRequest is NetworkDriver.Join's.
type JoinRequest struct {
	NetworkID  string
	EndpointID string
	SandboxKey string // the container's network namespace
	Options    map[string]any
}

// InterfaceName names the link a plugin made for a container.
type InterfaceName struct {
	SrcName   string // its name in the host's namespace
	DstPrefix string // the container's name is DstPrefix + N
}

// StaticRoute is a route the plugin asks for in the container.
type StaticRoute struct {
	Destination string // a prefix
	RouteType   int    // RouteNextHop or RouteConnected
	NextHop     string `json:",omitempty"`
}

// Route types, as libnetwork's.
const (
	RouteNextHop   = 0
	RouteConnected = 1
)

// JoinResponse is NetworkDriver.Join's answer.
type JoinResponse struct {
	InterfaceName         *InterfaceName
	Gateway               string
	GatewayIPv6           string
	StaticRoutes          []StaticRoute
	DisableGatewayService bool
}

type ids struct {
	NetworkID  string
	EndpointID string `json:",omitempty"`
}

// CreateNetwork asks the plugin to make a network.
func (d *Driver) CreateNetwork(ctx context.Context, r CreateNetworkRequest) error {
	if r.IPv6Data == nil {
		r.IPv6Data = []IPAMData{}
	}
	return d.call(ctx, "NetworkDriver.CreateNetwork", r, nil)
}

// DeleteNetwork asks the plugin to remove a network.
func (d *Driver) DeleteNetwork(ctx context.Context, networkID string) error {
	return d.call(ctx, "NetworkDriver.DeleteNetwork", ids{NetworkID: networkID}, nil)
}

// CreateEndpoint asks the plugin to make an endpoint; it may answer the
// interface's address and MAC (nil: it keeps the ones given).
func (d *Driver) CreateEndpoint(ctx context.Context, r CreateEndpointRequest) (*EndpointInterface, error) {
	var out struct{ Interface *EndpointInterface }
	if err := d.call(ctx, "NetworkDriver.CreateEndpoint", r, &out); err != nil {
		return nil, err
	}
	return out.Interface, nil
}

// DeleteEndpoint asks the plugin to remove an endpoint.
func (d *Driver) DeleteEndpoint(ctx context.Context, networkID, endpointID string) error {
	return d.call(ctx, "NetworkDriver.DeleteEndpoint", ids{networkID, endpointID}, nil)
}

// Join asks the plugin for the container's link.
func (d *Driver) Join(ctx context.Context, r JoinRequest) (*JoinResponse, error) {
	var out JoinResponse
	if err := d.call(ctx, "NetworkDriver.Join", r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Leave tells the plugin the container left.
func (d *Driver) Leave(ctx context.Context, networkID, endpointID string) error {
	return d.call(ctx, "NetworkDriver.Leave", ids{networkID, endpointID}, nil)
}

// EndpointOperInfo is the plugin's operational data of an endpoint.
func (d *Driver) EndpointOperInfo(ctx context.Context, networkID, endpointID string) (map[string]any, error) {
	var out struct{ Value map[string]any }
	if err := d.call(ctx, "NetworkDriver.EndpointOperInfo", ids{networkID, endpointID}, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ProgramExternalConnectivity tells the plugin the endpoint's published
// and exposed ports; a plugin without the method is no error.
func (d *Driver) ProgramExternalConnectivity(ctx context.Context, networkID, endpointID string, opts map[string]any) error {
	req := struct {
		NetworkID, EndpointID string
		Options               map[string]any
	}{networkID, endpointID, opts}
	return optional(d.call(ctx, "NetworkDriver.ProgramExternalConnectivity", req, nil))
}

// RevokeExternalConnectivity undoes ProgramExternalConnectivity; a
// plugin without the method is no error.
func (d *Driver) RevokeExternalConnectivity(ctx context.Context, networkID, endpointID string) error {
	return optional(d.call(ctx, "NetworkDriver.RevokeExternalConnectivity", ids{networkID, endpointID}, nil))
}

func optional(err error) error {
	if errors.Is(err, errdefs.ErrNotImplemented) {
		return nil
	}
	return err
}
