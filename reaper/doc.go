// Package reaper holds berth-init, the tiny init that `docker run --init`
// (HostConfig.Init, or daemon.json "init": true) puts at PID 1 of a
// container, and the tests that prove it. The program is C (reaper/berth-init/,
// built static as bin/berth-init by `make build`) for the reason the shim is:
// it sits in every such container for its whole life, so it should cost a
// few pages, not a Go runtime. It is berth's own, written to the behaviour
// Docker users know from docker-init (tini).
//
// # Where it runs
//
// berthd finds berth-init beside its own binary (else in PATH, or at
// daemon.json "init-path") and daemon/spec binds it read-only at
// /sbin/berth-init, prefixing the process's arguments with
// "/sbin/berth-init --". A container in the host's or another container's
// PID namespace gets no init: it would not be PID 1 there.
//
// # What it does
//
//	berth-init [-g] [--] CMD [ARG...]
//
//	berth-init (PID 1)                         CMD (its only child)
//	──────────────────                         ────────────────────
//	block every asynchronous signal
//	fork ─────────────────────────────────────▶ own process group; the
//	                                            terminal's foreground if stdin
//	                                            is one; old signal mask; exec
//	sigwaitinfo loop:
//	  SIGCHLD: reap every exited child
//	           (orphans of the whole tree)
//	  other:   kill(CMD, sig) ────────────────▶ SIGTERM, SIGINT, SIGHUP, SIGWINCH…
//	           (-g: its process group)
//	CMD reaped: exit with its status, 128+N for a death by signal N
//	(127/126 when CMD cannot be found / run)
//
// Signals stay blocked rather than handled: a blocked signal is queued even
// at a namespace's PID 1, where the kernel drops signals whose action is
// the default, and sigwaitinfo needs neither handlers nor a self-pipe. The
// synchronous signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP,
// SIGSYS) are left alone so a fault in berth-init still ends it. SIGTSTP,
// SIGTTIN and SIGTTOU are forwarded and never stop berth-init itself, as
// in tini. Outside a PID namespace (getpid() != 1) berth-init makes itself
// a child subreaper, so it reaps orphans there too. It allocates nothing
// and opens nothing.
package reaper
