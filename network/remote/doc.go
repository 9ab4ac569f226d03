// Package remote speaks Docker's remote network driver protocol
// (libnetwork's "remote" driver, docs/extend/plugins_network.md), so
// network drivers written for Docker work with berth: JSON over HTTP,
// POST only, on a unix socket (or TCP) the plugin serves.
//
// # Discovery and activation
//
// A plugin NAME is found as Docker finds it: a socket
// /run/docker/plugins/NAME.sock or /run/docker/plugins/NAME/NAME.sock,
// else a spec file NAME.spec (one URL: unix:///path or tcp://host:port)
// or NAME.json ({"Name","Addr","TLSConfig"}) in /etc/docker/plugins or
// /usr/lib/docker/plugins, also inside a NAME/ directory there; every
// directory can be overridden. Plugins.Driver activates it once
// (POST /Plugin.Activate, retried while the plugin is not listening
// yet), checks it implements "NetworkDriver", and asks
// NetworkDriver.GetCapabilities.
//
// # Calls
//
//	CreateNetwork   network ID, options, IPv4Data (berth's IPAM: pool
//	                and gateway)
//	DeleteNetwork
//	CreateEndpoint  the endpoint's address and MAC; the plugin may
//	                answer its own when berth gave none
//	Join            the sandbox key; answers InterfaceName{SrcName,
//	                DstPrefix}, Gateway, StaticRoutes
//	Leave, DeleteEndpoint
//	ProgramExternalConnectivity, RevokeExternalConnectivity (optional:
//	                a plugin answering 404 does not implement them)
//
// Requests carry the plugin protocol's media type
// (application/vnd.docker.plugins.v1.2+json). A plugin's failure is a
// non-200 answer with {"Err": "…"}: the error names the plugin and the
// method; 404 is errdefs.ErrNotImplemented.
//
// # As a driver of berth's network service
//
// Plugins.NetworkDriver(name, …) is plugin name as a network driver
// (docker network create -d NAME): berth's IPAM gives the subnet
// (IPv4Data) and the endpoints' addresses and MACs (CreateEndpoint's
// Interface; a plugin may fill what berth left empty, never change it).
// Join is CreateEndpoint, Join, the link into the container and, on the
// endpoint with the default route, ProgramExternalConnectivity; Leave is
// the link back, RevokeExternalConnectivity, Leave, DeleteEndpoint.
// Marks in a state directory (DATA/network-plugins/NAME in berthd) say
// which networks and endpoints the plugin made: the service's
// CreateNetwork at each start does not ask the plugin again (Docker's
// plugins keep their networks across daemon restarts), and a Leave of
// an endpoint already deleted asks nothing. berthd offers every plugin
// its directories name at start (BERTH_NETWORK_PLUGIN_DIRS overrides
// them).
//
// # The container's interface
//
// After Join, the link the plugin made (SrcName, in the host's network
// namespace) is moved into the container's namespace, renamed
// DstPrefix+N, given the endpoint's MAC and address, brought up, and the
// default route via Gateway and the static routes are added (Plumb). At
// leave the link goes back to the host under its own name (Unplumb), so
// the plugin can delete it at Leave/DeleteEndpoint, as Docker does.
package remote
