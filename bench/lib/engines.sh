# bench/lib/engines.sh — shell functions shared by the benches that run
# berthd, dockerd and podman side by side (bench/engine/run,
# bench/network/run). Sourced (POSIX sh), not run.
#
# The caller sets: root (the repository), bin ($root/bin), work (its work
# directory), mnt (where mkstore mounts the fresh ext4). Each engine may
# run in a network namespace of its own: ns_berth, ns_docker, ns_podman
# hold a command prefix that enters it ("nsenter -t PID -n"), or nothing.

# private_netns SELF ARGS...: unless already there, re-execute SELF --inner
# ARGS in a network namespace of its own, under bin/berth-init as a child
# subreaper (so the shims, conmons and containerd shims that daemonize are
# reaped there, whatever the host's PID 1 does). In --inner, it checks that
# the namespace is not the caller's.
private_netns() {
	s=$1
	shift
	if [ "${1:-}" != "--inner" ]; then
		BENCH_OUTER_NETNS=$(readlink /proc/self/ns/net) exec unshare --net "$bin/berth-init" -- "$s" --inner "$@"
	fi
	inner_ns=$(readlink /proc/self/ns/net 2>/dev/null) || inner_ns=
	if [ -z "$inner_ns" ] || [ -z "${BENCH_OUTER_NETNS:-}" ] || [ "$inner_ns" = "$BENCH_OUTER_NETNS" ]; then
		echo "bench: --inner runs only in the network namespace that $s makes (run it without arguments)" >&2
		exit 1
	fi
}

# need_bins CMD...: every CMD on PATH, and berth's programs in $bin.
need_bins() {
	for b in "$@"; do
		command -v "$b" >/dev/null || { echo "bench: $b is not installed" >&2; exit 1; }
	done
	for b in berthd berth berth-runtime berth-shim berth-init; do
		[ -x "$bin/$b" ] || { echo "bench: $bin/$b is missing: make build" >&2; exit 1; }
	done
}

# stop PID: SIGTERM, up to 30 s to exit, then SIGKILL. Only PIDs started here.
stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# unmount DIR: every mount at or below DIR, deepest first.
unmount() {
	findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | sort -r |
		while read -r m; do umount "$m" || umount -l "$m"; done
}

# waitfor DESC CMD...: until CMD succeeds, for up to 30 s.
waitfor() {
	what=$1
	shift
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		if [ $n -ge 300 ]; then
			echo "bench: $what did not come up" >&2
			return 1
		fi
		sleep 0.1
	done
}

# check DESC CMD...: one untimed run, which must succeed.
check() {
	what=$1
	shift
	if ! "$@" >"$work/check.log" 2>&1; then
		echo "bench: $what failed:" >&2
		cat "$work/check.log" >&2
		exit 1
	fi
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# bench NAME ARGS...: hyperfine ARGS, then its table (bench/summarize,
# built into $work/bin by mkstore).
bench() {
	table=$1
	shift
	hyperfine -N --export-json "$work/$table.json" "$@" >"$work/$table.log" 2>&1 ||
		{ cat "$work/$table.log" >&2; exit 1; }
	[ -z "${JSON_DIR:-}" ] || cp "$work/$table.json" "$JSON_DIR/"
	"$work/bin/summarize" "$work/$table.json"
}

# mkstore: a fresh ext4 on a loop device at $mnt for every store, and the
# bench's own programs in $work/bin.
mkstore() {
	truncate -s 8G "$work/disk.img"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$work/disk.img"
	mkdir "$mnt"
	mount -o loop "$work/disk.img" "$mnt"
	mkdir -p "$work/bin"
	(cd "$root" && go build -o "$work/bin/summarize" ./bench/summarize)
}

# The docker CLI under test: Debian's docker.io puts an old client in
# /usr/bin; the one in /usr/local/bin wins when there is one.
dockercli=/usr/local/bin/docker
[ -x "$dockercli" ] || dockercli=$(command -v docker)

# start_engines BERTHD_ARGS -- DOCKERD_ARGS: berthd, dockerd (with its
# containerd) and podman's settings, each on its own roots and socket,
# each in its ns_* namespace; sets berthd_pid, dockerd_pid, containerd_pid
# and exports BENCH_BERTH, BENCH_DBERTH, BENCH_DOCKER, BENCH_PODMAN (the
# command lines that drive them) and what podman and the docker CLI read.
start_engines() {
	bargs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do bargs="$bargs $1"; shift; done
	[ $# -eq 0 ] || shift
	${ns_berth:-} "$bin/berthd" --data-root "$mnt/berth/data" --exec-root "$mnt/berth/exec" -H "unix://$work/b.sock" \
		--config-file /dev/null --pidfile "$work/berthd.pid" $bargs >"$work/berthd.log" 2>&1 &
	berthd_pid=$!
	mkdir -p "$work/d"
	# dockerd 20.10 writes its trust key to /etc/docker/key.json unless its
	# config file says otherwise.
	echo "{\"deprecated-key-path\": \"$work/d/key.json\"}" >"$work/d/daemon.json"
	${ns_docker:-} dockerd --config-file "$work/d/daemon.json" --data-root "$mnt/docker" --exec-root "$work/d/exec" \
		-H "unix://$work/d/d.sock" --pidfile "$work/d/dockerd.pid" --storage-driver overlay2 \
		"$@" >"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	mkdir -p "$work/docker-config"
	echo '{}' >"$work/docker-config/config.json" # podman reads it too, and wants it
	export DOCKER_CONFIG="$work/docker-config" DOCKER_CLI_HINTS=false
	export BENCH_BERTH="$bin/berth -H unix://$work/b.sock"
	export BENCH_DBERTH="$dockercli -H unix://$work/b.sock"
	export BENCH_DOCKER="$dockercli -H unix://$work/d/d.sock"
	# podman sets RLIMIT_NOFILE and RLIMIT_NPROC of root's containers to
	# values this host refuses (no CAP_SYS_RESOURCE), and first lowers its
	# own RLIMIT_NPROC to 32768: its containers get this script's open-file
	# limit and that process limit. crun refuses this host's hybrid cgroup
	# layout, so podman runs runc, as dockerd does.
	nofile=$(awk '/^Max open files/ {print $5}' /proc/self/limits)
	cat >"$work/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
EOC
	export CONTAINERS_CONF="$work/containers.conf"
	export BENCH_PODMAN="${ns_podman:+$ns_podman }podman --runtime runc --root $mnt/podman --runroot $work/podman-run --tmpdir $work/podman-tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
	if ! waitfor berthd $BENCH_BERTH version; then tail -20 "$work/berthd.log" >&2; exit 1; fi
	if ! waitfor dockerd $BENCH_DOCKER version; then tail -20 "$work/dockerd.log" >&2; exit 1; fi
	containerd_pid=$(cat "$work/d/exec/containerd/containerd.pid" 2>/dev/null || true)
}

# mkrootfs DIR: busybox-static and a few applets.
mkrootfs() {
	mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/etc"
	cp "$(command -v busybox)" "$1/bin/busybox"
	for a in sh true sleep ps cat; do ln -s busybox "$1/bin/$a"; done
}

# import_image TAR NAME: TAR imported as NAME into each engine (podman
# names it localhost/NAME and finds it by NAME).
import_image() {
	for c in BERTH DOCKER PODMAN; do
		eval "cli=\$BENCH_$c"
		check "$c import" $cli import "$1" "$2"
	done
}

# clean_engine C: remove every container of contender C (BERTH, DBERTH,
# DOCKER, PODMAN).
clean_engine() {
	eval "cli=\${BENCH_$1:-}"
	[ -n "$cli" ] || return 0
	ids=$($cli ps -aq)
	# podman rm -f gives a container 10 s to stop first; the others kill.
	t=
	[ "$1" != PODMAN ] || t="-t 0"
	[ -z "$ids" ] || $cli rm -f $t $ids >/dev/null
}

# stop_engines: every container removed, then the daemons stopped by PID,
# the store unmounted and the work directory removed. For an EXIT trap.
stop_engines() {
	set +e
	for c in BERTH DOCKER PODMAN; do clean_engine "$c" 2>/dev/null; done
	stop "$berthd_pid"
	stop "$dockerd_pid"
	stop "$containerd_pid" # dockerd's, when dockerd did not stop it
	unmount "$work"
	rm -rf "$work"
}

# versions: one line naming berth's, docker's and podman's versions.
versions() {
	echo "berth $(git -C "$root" describe --always --dirty 2>/dev/null || echo dev);" \
		"docker CLI $($dockercli --version | cut -d' ' -f3 | tr -d ,), dockerd $(dockerd --version | cut -d' ' -f3 | tr -d ,)" \
		"with containerd $(containerd --version | cut -d' ' -f3) and runc $(runc --version | head -1 | cut -d' ' -f3);" \
		"podman $(podman --version | cut -d' ' -f3) with conmon $(conmon --version | head -1 | cut -d' ' -f3) and runc"
}
