// Package image keeps berth's images: what they are made of, the names
// they go by, and how they arrive and leave.
//
// An image is a config and an ordered list of layers, named by the
// config's digest (Docker's image ID). Its blobs (index, manifest, config,
// compressed layers) live once each in the content store; each layer is
// unpacked once into a committed snapshot named by its chain ID, shared by
// every image whose layer chain starts the same way. The store records
// images and references (docker.io/library/busybox:latest → image ID) in
// bbolt, in one transaction per change.
//
// Lifecycle: Pull (or Load, or Import) writes blobs, unpacks snapshots,
// then records the image; nothing is recorded before all of it is
// verified, and a lease keeps the half-made parts from the collector
// meanwhile. Delete removes records only; GC removes the blobs and
// snapshots nothing references any more; Fsck checks every blob and
// snapshot against the records.
package image
