// Package nsexec links a C constructor into berth-runtime that joins
// existing namespaces (by path) and creates new ones before the Go runtime
// starts its threads. Import it for its side effect from the runtime's main.
// The environment variables it reads and the messages it sends are described
// in nsexec.c.
//
// The constructor can also finish the job without Go: exec a process into
// a running container from a blob the parent compiled (execproc.c), or
// create a new container from an init plan (initplan.c, initrun.c, with
// paths resolved inside the rootfs by inroot.c), waiting on the exec fifo
// for start and exec'ing the container's process; the Go runtime then never
// starts inside the container. runtime/container writes the blob and the
// plan and decides, per process, whether the C path can take it.
package nsexec

// #cgo CFLAGS: -Wall -O2
import "C"
