// Package volume is berthd's volume service: named and anonymous volumes
// of the "local" driver, shared between containers, as Docker keeps them.
//
// # Lifecycle
//
//	create (API, or a container's -v NAME:/dst, --mount type=volume, -v /dst,
//	        an image VOLUME) ──▶ unused ◀──────────────┐
//	                               │ Use (container     │ Unuse (container
//	                               ▼  created)          │  removed)
//	                             in use ────────────────┘
//	                               │ Mount (container starts; the first
//	                               ▼  mounts type/device/o)
//	                             mounted ── Unmount (last container stops) ──▶ in use
//
// A volume in use cannot be removed: DELETE answers 409 "volume is in use
// - [ids]". The references are not stored: the container service
// declares them again (Use) when it loads its records, so the container
// records are the one source of truth. Anonymous volumes (64 hex digits,
// created for -v /dst and the image's VOLUME) carry the label
// com.docker.volume.anonymous, as Docker's; `docker rm -v` and --rm remove
// them, and prune removes only them unless asked for all (API 1.42+; older
// clients prune every unused volume).
//
// # Driver options
//
// Without options a volume is a plain directory. With type, device and o
// (mount(8)'s -t, device and -o: a tmpfs, a bind with o=bind, a block
// device) the filesystem is mounted on the volume's _data when the first
// container using it starts, and unmounted when the last one stops, so a
// tmpfs volume is empty at each first use, as with Docker's local driver.
// A volume is always unmounted before its directory is removed: removing
// a bind-type volume never deletes what it binds.
//
// # Copy-up
//
// When a container mounts an empty volume over a directory its image has
// content in, Populate copies that content (owners, modes, times, extended
// attributes) into the volume first, as Docker does, unless the mount asks
// for nocopy or names a subpath.
//
// # Export and import (berth extensions)
//
// GET /volumes/{name}/export streams the volume as a tar archive whose
// last entry, ".berth-volume-manifest.json", lists the SHA-256 of every
// regular file and of the whole stream before it. PUT
// /volumes/{name}/import reads such an archive into a temporary directory
// inside the volume's root, verifies every checksum, and only then renames
// it in place of the volume's data; a corrupt or truncated archive leaves
// the volume as it was and the error names the file that failed. These
// two routes are not in the Docker Engine API.
//
// # On disk
//
//	DATA/berth.db, bucket "volumes"   one JSON record per volume, by name
//	DATA/volumes/<name>/_data         the data (the mountpoint with options)
//	DATA/volumes/.remove-*            volumes being removed; New finishes
//
// A volume is created directory first, record second; removed record
// first, then its directory is renamed aside and deleted. New adopts a
// directory without a record (data is never deleted on a guess) and
// recreates the directory of a record without one.
package volume
