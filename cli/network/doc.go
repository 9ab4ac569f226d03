// Package network is `berth network`: create, ls, inspect, connect,
// disconnect, rm and prune, with docker's flags and output, over the
// moby client's Network* calls. Subnets, ranges and gateways are checked
// and grouped here (each range and gateway in its subnet) before the
// daemon sees them, as the docker CLI does.
package network
