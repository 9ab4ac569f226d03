// Package shim starts and talks to berth-shim, the small per-container
// supervisor that stands between berthd and a container: it is the
// container's parent (a child subreaper), holds its stdio or pty, writes its
// json-file log, serves attach clients, reaps it and records its exit
// status. It is a static C program (shim/berth-shim/, built as
// bin/berth-shim) because its memory is paid once per container; this
// package is the Go side berthd uses.
//
// # Lifecycle
//
// Start runs the shim, which creates the container with the runtime and
// reports back; (*Shim).Start starts the container's process; Wait returns
// the exit status once the container has exited and the shim is gone. The
// shim is in its own session and is not berthd's child: if berthd dies the
// container, its log and its exit status live on, and a restarted berthd
// finds the shim again with Open(stateDir). Nothing is held open between
// calls: every request dials a socket, and Wait watches the shim's pid.
//
// # Protocol
//
//	berthd (this package)            berth-shim                    runtime
//	─────────────────────            ──────────                    ───────
//	exec berth-shim --sync-fd 3 ─▶  fork, setsid, fork
//	Wait() for the first process ◀─  first process exits
//	                                 prctl(CHILD_SUBREAPER)
//	                                 bind ctl.sock, attach.sock
//	                                 create --bundle B --pid-file P ───▶ init waits
//	                                   [--console-socket S] ID           for start
//	                                 (pty master via SCM_RIGHTS) ◀───
//	                                 open log, write shim.json
//	sync pipe: "ok PID\n"        ◀─  (or "error TEXT\n"; undo, exit)
//	                                 …the starter may go away now…
//	attach.sock: connect         ─▶
//	                             ◀─  "ok\n", then output frames
//	ctl.sock: "start\n"          ─▶  start ID ─────────────────────────▶ init execs
//	                             ◀─  "ok\n" | "error TEXT\n"
//	ctl.sock: "kill 15 [all]\n"  ─▶  kill [--all] ID 15 ──────────────▶
//	ctl.sock: "resize 24 80\n"   ─▶  TIOCSWINSZ on the pty master
//	ctl.sock: "close-stdin\n"    ─▶  close the stdin pipe (after the
//	                                 input attach clients sent before)
//	ctl.sock: "exec ID …\n"      ─▶  exec --detach --process x-ID.json ─▶ process
//	                             ◀─  "ok PID\n", output frames, …,
//	                                 exit frame (see Exec and exec.c)
//	                                 SIGCHLD: init exited
//	                                 drain output, read OOM count
//	                                 delete --force ID ────────────────▶
//	                                 write exit.json (atomic)
//	attach clients: EOF          ◀─  close log, hang up attach clients
//	pidfd of the shim: readable  ◀─  remove sockets, shim.json; exit
//	Wait reads exit.json
//
// The shim runs the runtime's delete itself, before it writes exit.json:
// when berthd learns of the exit the id is free again (a restart policy can
// create the container at once), and a container that exits while berthd
// is down leaves nothing for berthd to clean up but its state directory.
//
// # Parents and signals
//
// The shim is reparented to init (or to the nearest child subreaper: berthd
// must not make itself one, or the shims would become its children again).
// It ignores SIGTERM, SIGINT and SIGHUP, since its only way out is the
// container's exit; SIGKILL ends it, and then Wait reports the status as
// lost (errdefs.ErrDataLoss) and the runtime's state needs a delete.
//
// # State directory
//
// Start creates it if it is missing (and removes it again on failure):
//
//	ctl.sock, attach.sock   while the shim runs
//	shim.json               while the shim runs: its pid and start time, init's pid, tty
//	init.pid, runtime.log   while the shim runs (the runtime writes them; the shim
//	                        empties runtime.log before each call)
//	exit.json               after the exit: {"id","pid","exit_code","signal","oom_killed","exited_at"}
//	x-ID.json, x-ID.meta    an exec's process and its owner's record (Exec writes them)
//	x-ID.pid, x-ID.exit     its pid (the runtime), how it ended (the shim)
//	shim.log                only if the shim had something to complain about
//
// # Stdio and logs
//
// Without a terminal the container's stdout and stderr are pipes (stdin
// too with Options.Stdin, else /dev/null); with one, the runtime sends the
// pty master over a console socket. The log is Docker's json-file format,
// {"log":"line\n","stream":"stdout","time":"RFC 3339 nano"} per line;
// lines over 16 KiB are cut into records without the final "\n", as Docker
// marks partial messages; it rotates to LOG.1 … LOG.(max files − 1) once it
// has reached the maximum size. Attach clients get output framed as
// Docker's multiplexed stream without a terminal (Demux reads it) and the
// raw pty bytes with one; a client that falls 1 MiB behind is dropped
// rather than stall the container. With Options.StdinOnce, a client that
// closes its connection for writing closes the container's stdin once
// all it sent is written, as Docker's StdinOnce.
//
// # Execs
//
// Exec asks the shim to start a process in the container (the runtime's
// exec --detach): the shim becomes its parent, as it is init's, holds its
// stdio (pipes, or a pty through a console socket) and writes x-ID.exit
// when it ends, so an exec outlives berthd too. The connection that asked
// carries the exec's stdio: frames as above for output (stdout also for
// a pty), then an exit frame (stream 3, the code in decimal); what the
// client writes is the exec's stdin, and its CloseWrite is stdin's EOF,
// after everything sent before. A client that goes away leaves the exec
// running with its stdin open; Execs lists what a restarted berthd needs
// to find it again.
package shim
