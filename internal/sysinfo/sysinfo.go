// Package sysinfo answers questions about the host that more than one
// part of berthd asks.
package sysinfo

import "golang.org/x/sys/unix"

// MemTotal is the host's RAM in bytes, 0 if the kernel does not say.
func MemTotal() int64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
