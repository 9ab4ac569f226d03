// Package types holds the JSON shapes of berthd's own endpoints, those
// the Docker Engine API does not define, shared by api/server and the
// berth CLI (which must not link the daemon's packages).
package types

// FsckResponse answers POST /system/fsck: what the check of the store
// found and, with ?repair=1, what it removed. Problems and Repaired are
// sentences naming the object.
type FsckResponse struct {
	Blobs     int      // blobs re-hashed
	Snapshots int      // snapshots checked
	Problems  []string // never null
	Repaired  []string // never null
}
