// Package stream moves a container's standard streams between the
// berth CLI and berthd: the multiplexed stdout/stderr format of logs
// and attach without a tty, the hijacked attach and exec connections
// with stdin, detach keys, raw terminal mode and window resizes.
//
// The multiplexed format frames each write of the container as
//
//	+--------+-------+-------+-------+---------------------------+
//	| stream |   0   |   0   |   0   | size (uint32, big endian) |
//	+--------+-------+-------+-------+---------------------------+
//	| payload (size bytes)                                       |
//	+------------------------------------------------------------+
//
// where stream is 0 (stdin, written to stdout), 1 (stdout), 2 (stderr)
// or 3 (an error the daemon reports in band).
package stream
