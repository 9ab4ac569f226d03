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
// # The container's interface
//
// After Join, the link the plugin made (SrcName, in the host's network
// namespace) is moved into the container's namespace, renamed
// DstPrefix+N, given the endpoint's MAC and address, brought up, and the
// default route via Gateway and the static routes are added (Plumb). At
// leave the link goes back to the host under its own name (Unplumb), so
// the plugin can delete it at Leave/DeleteEndpoint, as Docker does.
package remote
