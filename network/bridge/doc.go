// Package bridge is the bridge driver of the network service: it makes
// and removes the kernel objects a bridge network is made of, over
// netlink, in one network namespace given at New (berthd's own, or a
// test's).
//
//	host namespace                       container namespace
//	┌──────────────────────────┐         ┌──────────────────────┐
//	│ bridge "br-…"/"berth0"   │         │ eth0 172.18.0.2/16   │
//	│   172.18.0.1/16 (gw)     │  veth   │   MAC 02:42:ac:12:00:02
//	│   └─ port veth<ep-id> ───┼─────────┼─▶ default via gw     │
//	└──────────────────────────┘         └──────────────────────┘
//
// The veth pair is made with its peer directly inside the container's
// namespace under its final name (eth0, eth1, …), so no temporary name
// ever shows in the host's namespace and two containers' eth0 cannot
// collide. The host end is named from the endpoint's ID ("veth" + 11 hex
// digits), so reconciliation at berthd's start can tell which links are
// berth's. Removing the host end removes the pair; the container's end
// also goes when its namespace dies.
//
// The driver holds no state besides its netlink handles: the network
// service keeps the records and calls it.
package bridge
