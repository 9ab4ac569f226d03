// Package vlan is berth's "vlan" network driver:
//
//	docker network create -d vlan -o parent=eth0 -o vlan=10 \
//	    --subnet 10.10.0.0/24 --gateway 10.10.0.1 v10
//
// A container joining such a network gets the 802.1q sub-interface of
// the parent for that VLAN as its own interface, made directly in its
// network namespace, with an address from berth's IPAM for the subnet and
// the default route via the gateway. The kernel allows one sub-interface
// per VLAN and parent, and a link lives in one namespace at a time, so a
// vlan network takes one container at a time: a second one is refused
// while the first runs (for several containers on one VLAN, use macvlan
// with -o parent=eth0.10). No bridge, no NAT, no rule: published ports
// and --internal are refused. The link is marked "berth:<endpoint ID>"
// and Leave deletes only a link so marked.
package vlan
