// Package containers is berthd's container service: it creates containers
// from images, runs them under a shim, records how they end, restarts them
// by policy, and finds them again after berthd restarts. It speaks the
// Docker Engine API's current types (container.Config, HostConfig,
// InspectResponse, Summary); api/server adapts older API versions.
//
// # Lifecycle
//
//	create ──▶ created ──start──▶ running ◀──unpause── paused
//	              ▲                 │  └──pause──────────▲
//	              │                 │ exit (shim records it)
//	              │                 ▼
//	              └──── start ── exited ──policy──▶ restarting ──▶ running
//	                                │
//	remove (force kills first) ─────┴──▶ gone: record, snapshot, dirs, shim state
//
// Create resolves the image, reserves the name, prepares the read-write
// snapshot (key = container ID, parent = the image's top chain ID), mounts
// it just long enough for daemon/spec to read /etc/passwd and /etc/group,
// and writes the bundle's config.json. Start mounts the rootfs again and
// starts a shim (package shim), which runs the runtime's create; berthd
// then brings up the loopback of the container's network namespace,
// connects the attach clients that were waiting for the start, and asks
// the shim to start the process. A goroutine per running container waits
// for the shim to go; the exit is recorded, the rootfs unmounted, and the
// restart policy decides what comes next (100 ms backoff doubling up to a
// minute, reset once a run lasted 10 s).
//
// Operations that change a container's state (start, stop, kill, restart,
// pause, unpause, rename, remove) hold its operation lock; the exit
// handler takes only the record lock, so a stop holding the operation lock
// can wait for the exit it caused.
//
// # On disk
//
//	DATA/berth.db, bucket "containers"   one JSON record per container, by ID
//	DATA/containers/<id>/                the bundle: config.json, rootfs/
//	                                     (mount point), hostname, hosts,
//	                                     resolv.conf, <id>-json.log[.N]
//	EXEC/containers/<id[:12]>/           the shim's state: sockets, shim.json,
//	                                     exit.json (see package shim)
//	EXEC/runtime/                        the runtime's --root
//
// The shim's directory is named by the first 12 characters of the ID,
// which Create keeps unique, so that its socket paths stay within the 108
// bytes of a unix socket address for any exec root up to 70 characters.
//
// The record is written before anything on disk is removed and after
// everything a create needs exists, so a crash leaves either a record
// whose files Restore checks, or files no record names, which Restore
// removes.
//
// # Live restore
//
// The shims outlive berthd. At start, Restore reads every record; for a
// container whose shim state directory exists it opens the shim again
// (running containers stay running, with the same pid, their logs still
// written by the shim) or reads the exit.json the shim left when the
// container ended while berthd was down. A shim that vanished without an
// exit.json (killed) is recorded as exit 137 with an error note. Then the
// containers with restart policy always or unless-stopped that are not
// running and were not stopped by the user are started again, which is
// also what happens after a reboot of the host. berthd is not a child
// subreaper: shims are reparented to init, never to berthd.
//
// # Exec, top, stats
//
// An exec is started by the container's shim (package shim, Exec), which
// holds its stdio and records its exit in the shim's state directory;
// berthd relays the stdio over a connection to the shim. So an exec
// survives berthd as the container does: Restore finds the execs of the
// running containers again (exec inspect shows the exit code of those
// that ended meanwhile, and tracks those still running). Top and stats ask the runtime
// (ps, events --stats) and convert its answers to the Engine API's shape.
//
// # Health checks
//
// A container whose configuration (the request's Healthcheck completed
// field by field with the image's HEALTHCHECK) has a CMD or CMD-SHELL
// test gets a monitor goroutine while it runs unpaused: it runs the test
// as an exec, kills it past its timeout, keeps the last five results in
// the record and turns the status starting, healthy or unhealthy as
// dockerd does, publishing "health_status: ..." on each change. Start
// and live restore reset the status to starting; exit, stop and pause
// end the monitor. The label berth.health-on-failure (none, restart,
// stop, kill) acts on a container that becomes unhealthy. See health.go.
//
// # Copying and committing
//
// docker cp (archive.go) works on created, running and stopped
// containers alike, in a mount namespace of its own (internal/mount
// Private): the layer is mounted there when the container does not run
// (a running one's live rootfs mount is used as it is), and every bind
// mount of the container's spec (binds, volumes, the network files) is
// bound at its destination there, so nothing is mounted on the host.
// Each path from the client resolves inside the container's root with
// openat2(2) RESOLVE_IN_ROOT, across those mounts: a container's symlink
// to /etc or "../../.." stays in the container. What the runtime mounts
// itself (proc, sys, dev, tmpfs) is not there, as in Docker.
//
// Commit (commit.go) pauses a running container unless told not to,
// writes its upper directory as a layer less the mount points the
// runtime made there (image.Service.Commit stores it, applies it to a
// snapshot of the new image as it goes, adds config and manifest), and
// merges the request's config, changes applied, with the container's as
// dockerd does.
//
// # Namespace modes
//
// --network, --ipc and --pid container:NAME join the namespaces of
// NAME's init by their /proc/PID/ns paths, which start writes into
// config.json (create leaves placeholders): NAME must run, and for IPC
// be shareable. --ipc shareable mounts a tmpfs at DATA/containers/<id>/shm
// while the container runs, bound at its /dev/shm and at that of the
// containers that join it (see namespaces.go).
//
// # Networking
//
// Every container but those of network mode host gets a network
// namespace of its own, its loopback brought up between the shim's create
// and start. With a network service (Options.Networks, package network),
// a container in mode bridge or on user networks is recorded at create
// with its networks (record.Networks: by name, what was asked of each:
// aliases, --ip, MAC) after the service checked them and the published
// ports; each start then attaches it there, after the runtime's create
// and before the process runs (veths, addresses, routes, published
// ports, DNS names), and writes its /etc/hosts and resolv.conf in place
// for them (the runtime has bound them already); each exit, kill, crash
// or failed start detaches it, before waiters learn of the exit (the
// disconnect events follow the die event, as dockerd's). --dns goes to
// the service, whose embedded DNS forwards to it, resolv.conf naming the
// embedded DNS; rename renames the endpoints' DNS names. Live
// restore hands the service the containers still running. Inspect and
// ps show the endpoints of the run (network.go, network_inspect.go);
// connect and disconnect change a running container's endpoints at once
// and a stopped one's record (network_connect.go). Without the service,
// or in mode bridge with berthd's --bridge=none, a container has its
// loopback only, as before.
//
// # Volumes
//
// Create asks the volume service (VolumeService, volume) for each
// volume the spec mounts — -v NAME:/dst, --mount type=volume, -v /dst and
// the image's VOLUMEs (anonymous), those of --volumes-from containers —
// taking a reference the container holds until it is removed, and records
// them with their host paths (record.Volumes: what inspect shows and docker
// cp resolves through). Start has each mounted (driver options) and, if
// still empty, filled with the image's content at its destination; the
// exit unmounts. Remove drops the references, and with -v (or --rm)
// removes the anonymous volumes no other container uses.
package containers
