// Package phys is berth's "phys" network driver: a host interface given
// to one container for its life.
//
//	docker network create -d phys -o parent=eth1 [--subnet … --gateway …] nic1
//
// Join moves the parent (an existing link of the service's namespace)
// into the container's network namespace as ethN, with the addresses it
// had on the host, or with an address of the network's subnet when the
// network has one (then the default route goes via its gateway). Leave
// hands it back to the host under its own name, with its addresses, up.
// The link is in one namespace at a time, so a phys network takes one
// container at a time; published ports and --internal are refused (no
// NAT, no rules: the container owns the wire).
//
// Crash safety. A namespace dies with its last process, and the kernel
// then destroys the virtual links in it (a veth end moved into a
// container would be lost) and sends physical ones to the initial
// namespace, not berthd's. So Join pins the container's namespace with a
// bind mount at PinDir/<endpoint ID> before the move, and Leave, which
// runs after the container stopped (or at restore, for a container found
// dead after berthd was killed), takes the link back from the pinned
// namespace and then removes the pin. What Leave needs to give the link
// back is stored on the link itself, in its alias: "berth:<endpoint ID>
// <host name> <address>,<address>", so it survives berthd. A link's
// former alias is lost.
package phys
