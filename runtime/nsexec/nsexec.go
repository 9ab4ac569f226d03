// Package nsexec links a C constructor into berth-runtime that joins
// existing namespaces (by path) and creates new ones before the Go runtime
// starts its threads. Import it for its side effect from the runtime's main.
// The environment variables it reads and the messages it sends are described
// in nsexec.c.
package nsexec

// #cgo CFLAGS: -Wall -O2
import "C"
