// Package cni runs CNI plugins (the Container Network Interface,
// github.com/containernetworking/cni SPEC.md, versions 0.1.0 to 1.0.0)
// for a container's network namespace: the network driver of networks
// whose configuration is a CNI conflist.
//
// # Model
//
// A List is a network configuration list (a .conflist file, or a single
// plugin's .conf/.json wrapped as a list of one) found by its "name" in a
// configuration directory (/etc/cni/net.d unless configured). A Runner
// executes its plugins, found by their "type" in the plugin directories
// (/usr/lib/cni, where Debian's containernetworking-plugins puts bridge,
// host-local, macvlan, portmap, loopback, …):
//
//	Add    ADD for each plugin in order; each one's result is the next
//	       one's prevResult; the last result is the attachment's
//	Check  CHECK for each plugin in order, with the cached result
//	Del    DEL for each plugin in reverse order, with the cached result;
//	       what is already gone is no error (the plugins' contract)
//
// Each plugin gets its configuration on stdin (the list's cniVersion and
// name added, the runtime's arguments in "runtimeConfig" for the
// capabilities it declares: portMappings, ips, mac), and the CNI_*
// variables in its environment. A plugin that exits non-zero answers
// with {"code","msg","details"} on stdout: the error is a *PluginError
// naming the network, the plugin and the command. Every call has a
// timeout.
//
// # Cache and crash safety
//
// Before ADD runs, the Runner writes the configuration as it will be
// run and the runtime arguments to its cache directory (one JSON file per
// network, container and interface); after ADD it adds the result. DEL
// uses what the cache holds, not the configuration of the day, so a
// conflist changed or removed since still gets the plugins, options and
// result that ADD had; the entry goes only when DEL succeeded. A crash
// during ADD thus leaves an entry without a result, and the DEL that
// follows (at the daemon's next start: Attached lists the entries) runs
// without prevResult, which the plugins accept. Files are written as
// temp file, fsync, rename, fsync of the directory.
//
// # The network driver "cni"
//
// Driver makes a Runner a driver of berth's network service:
//
//	docker network create -d cni [-o cni.network=CONFLIST] NAME
//
// takes the configuration named CONFLIST (default: NAME) from the
// configuration directory; it must exist at create. Its IPAM gives the
// addresses, so the network has no subnet of berth's (--subnet,
// --gateway, --ip-range and --internal are refused); Join runs ADD and
// records the first IPv4 address the result gives the container's
// interface, Leave runs DEL (from the cache, so a conflist changed or
// removed since is no obstacle). The plugins' host side (a bridge) stays
// when the network is removed, as with other CNI runtimes. berthd takes
// the directories from NETCONFPATH and CNI_PATH when set (cnitool's
// variables) and caches under DATA/cni.
//
// # Namespaces
//
// Plugins do their host-side work (bridges, routes, iptables) in the
// network namespace they start in: Options.NetNS, berthd's own when
// empty; tests give one of their own. CNI_NETNS must name a path the
// plugin can open: "/proc/self/…" paths are rewritten to this process's
// PID.
package cni
