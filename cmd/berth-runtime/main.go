// Command berth-runtime is berth's OCI runtime, with runc's command line.

// No container-aware GOMAXPROCS (Go 1.25): sysmon would keep re-reading
// the cgroup CPU limit files of a process that lives milliseconds, and in a
// container's init hold fds of the host's cgroupfs. (The runtime still
// reads them once at start, for its metrics.)
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"
	goruntime "runtime"

	"github.com/berth-dev/berth/runtime/command"
	"github.com/berth-dev/berth/runtime/container"
	_ "github.com/berth-dev/berth/runtime/nsexec" // joins namespaces before the Go runtime starts
)

func init() {
	// A container's init must run on the main thread from the start: it
	// changes per-thread state (credentials, capabilities, seccomp) and
	// execs from that thread.
	if container.IsInit() {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
	}
}

func main() {
	if container.IsInit() {
		container.Init() // returns only on failure, after exiting
		os.Exit(1)
	}
	os.Exit(command.Main(os.Args[1:], os.Stdout, os.Stderr))
}
