// Package macvlan is berth's "macvlan" network driver, as Docker's:
//
//	docker network create -d macvlan -o parent=eth0 \
//	    [-o macvlan_mode=bridge|private|vepa|passthru] \
//	    --subnet 192.168.1.0/24 --gateway 192.168.1.1 lan
//
// A container's interface on such a network is a macvlan link of the
// parent, made directly in the container's network namespace (so its
// name is free there whatever the host has), with an address from
// berth's IPAM for the network's subnet and the default route via the
// network's gateway: the container is on the parent's wire, with its
// own MAC. There is no bridge, no NAT and no nftables rule; published
// ports are refused (the container is reached at its own address), and
// the host itself cannot reach its macvlan children through the parent
// (a property of macvlan).
//
// parent=eth0.10 names an 802.1q sub-interface: when it is missing, the
// network's creation makes it (VLAN 10 of eth0) and marks it with the
// alias "berth:<network ID>"; removing the network removes it only when
// it carries that mark. Each container link is marked "berth:<endpoint
// ID>", and Leave deletes only a link so marked, so a namespace path
// that names another process by now is harmless.
package macvlan
