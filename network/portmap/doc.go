// Package portmap turns Docker's published ports into berth's
// (FromDocker: HostConfig.PortBindings, -P over the exposed ports, host
// port ranges) and holds host ports for a container's life (Reserve).
//
// # Reservations
//
// A published port reaches the container through DNAT (network/nat), not
// through a socket. Reserve still binds one on the host address and port
// — TCP bound but not listening, UDP bound — so that no other program
// can take the port while the container has it, and so that a port
// already taken is an error at start, in Docker's words ("Bind for
// 0.0.0.0:8080 failed: port is already allocated"), rather than a silent
// shadowing. SO_REUSEADDR is not set: two such sockets on one port would
// both bind. Port 0 takes a free port from the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), starting at a random place
// and skipping ports in use; a range (-p 8000-8010:80) takes the first
// free one in order, as Docker does. A kernel without SCTP sockets holds
// nothing for SCTP ports (nothing else can bind them either).
//
// Reserve works in the calling thread's network namespace.
package portmap
