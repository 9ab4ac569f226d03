// Package ifconf holds what berth's link drivers (macvlan, vlan, phys)
// share: opening a netlink handle in a namespace given by path, setting
// up a container's interface (address, MTU, up, default route), and
// finding and deleting a link by the alias a driver marked it with, so
// that a driver never touches a link it did not make, even when a
// namespace path names another process's namespace by now.
package ifconf
