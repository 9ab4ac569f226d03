// Package container is berth-runtime's library: it turns an OCI bundle into a
// container and drives its lifecycle (create, start, state, kill, delete,
// exec, pause, resume, update), with the state of each container kept in a
// directory under the runtime root (runc's --root).
//
// A container's life:
//
//	create:  parent (berth-runtime create)           child (berth-runtime init)
//	         mkdir ROOT/ID, create the cgroup
//	         start child in new namespaces  ───────▶  (nsexec joins the cgroups
//	                                                   and namespaces before Go
//	                                                   starts)
//	         mkfifo exec.fifo, set cgroup limits
//	         send config ──────────────────────────▶  mounts, devices
//	                                       ◀───────── "hooks" (if any)
//	         run prestart, createRuntime hooks
//	         "hooks-done" ─────────────────────────▶  createContainer hooks,
//	                                                   pivot_root, masks, console
//	                                       ◀───────── "ready"
//	         write state.json, pid file; exit        open exec.fifo for writing
//	                                                   (blocks)
//	start:   open exec.fifo, read a byte ─────────▶  startContainer hooks, drop
//	         remove the fifo, poststart hooks          privileges, seccomp, execve
//	delete:  kill what is left, remove the cgroup, poststop hooks, rm ROOT/ID
//
// The common container (no user namespace, terminal, create-time hooks,
// labels, personality, seccomp listener, tmpcopyup or shared rootfs
// propagation) never runs Go inside it: the parent sends, instead of the
// config, an init plan of plain data (initplan.go) with the exec fifo and
// the v1 cgroups' tasks files, and nsexec's C init runs it (mounts resolved
// in the rootfs, devices, pivot_root, masks, ...), says "ready", waits on
// the fifo and execs the process. Its v1 cgroups are made while it starts.
// Init started for a plan peeks at the first packet: a JSON config goes to
// Go's init, so the parent can still fall back. BERTH_INIT=go (read by the
// command line into CreateOpts.GoInit) always uses Go's init.
//
// exec joins the namespaces and cgroups the same way. A process that needs
// no terminal, label, personality or seccomp listener is compiled by the
// parent into a binary blob that nsexec applies and execs in C, so no Go
// runtime starts inside the container (execblob.go); any other goes
// through Go's init, which gets a config as create's does. The first such
// blob's seccomp program is kept beside state.json for the next execs
// (exec_seccomp.go).
//
// The status is derived, never stored: "stopped" when the init process (pid
// and start time recorded at create) is gone, "created" while exec.fifo
// exists, "paused" when the cgroup is frozen, else "running".
//
// Every message on the sync socket (SOCK_SEQPACKET, one JSON object per
// packet) is a syncMsg; see sync.go.
package container
