// Package spec turns what `docker create` sends (container.Config and
// container.HostConfig of the Engine API) and the image's configuration into
// the OCI runtime configuration berth-runtime runs, with Docker's defaults and
// security settings.
//
// # Data, not effects
//
// Generate computes; it mounts, creates and writes nothing. What it needs to
// know about the machine comes in a Host value (ProbeHost reads the live one
// once, tests pass a fixed one), and what needs doing outside the spec comes
// back in the Result: host directories to create for -v binds whose source
// is missing (as Docker creates them), the stop signal and timeout, the
// configuration merged with the image's (what inspect shows) and Docker's
// warnings. The caller writes Result.Spec as the bundle's config.json.
//
// Generate reads two kinds of input that an attacker may shape: the API
// request, validated with Docker's messages (every such error wraps
// errdefs.ErrInvalidArgument), and the image's root filesystem, whose
// /etc/passwd and /etc/group name the user the process runs as. Those files
// are opened inside the rootfs with its symlinks resolved in scope, as if the
// rootfs were /, and read only when they are regular files of sane size: a
// symlink to the host's /etc/passwd, a FIFO or /dev/zero in their place gets a
// clear error or reads as absent, never the host's file and never a hang.
//
// # What Docker does, and what berth adds
//
//   - Process: the image's Entrypoint and Cmd under the request's (a Cmd given
//     with no Entrypoint keeps the image's Entrypoint; any Entrypoint given
//     drops the image's Cmd; Entrypoint [""] resets both), PATH and HOSTNAME
//     defaults, TERM=xterm with a tty, the working directory, the user and
//     its groups, rlimits merged with the daemon's, OOM score, umask.
//   - Capabilities: Docker's 14 defaults, --cap-add/--cap-drop with ALL,
//     every capability the host offers when privileged; no inheritable or
//     ambient set.
//   - Seccomp: DefaultProfile, equivalent to Docker's default allowlist, or a
//     profile in Docker's JSON format (security-opt seccomp=<json>), expanded
//     for the host's architecture, kernel and the container's capabilities;
//     none when privileged or seccomp=unconfined.
//   - Mounts: /proc, /dev, /dev/pts, /dev/shm (ShmSize), /dev/mqueue, /sys
//     and /sys/fs/cgroup read-only, -v binds, --mount bind and tmpfs, --tmpfs,
//     /etc/hosts, /etc/hostname and /etc/resolv.conf from files the caller
//     prepared, read-only rootfs, the init binary for --init.
//   - Linux: namespaces by network/ipc/pid/uts/cgroupns mode, masked and
//     read-only /proc and /sys paths, the device cgroup allowlist, --device,
//     resources (memory, swap at twice the memory by default, CPU, cpuset,
//     pids, blkio), namespaced sysctls, cgroupsPath under /berth.
//   - berth adds a default pids limit (DefaultPidsLimit, configurable) when
//     the request sets none, so one container cannot fork-bomb the host.
//
// Named and anonymous volumes belong to the volume service: with WithVolumes
// Generate asks it for the host directory of each, after every other check
// passed; without it a named volume is refused with errdefs.ErrNotImplemented
// and an image VOLUME is left in the container's writable layer, with a
// warning.
package spec
