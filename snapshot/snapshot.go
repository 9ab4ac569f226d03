package snapshot

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/mount"
)

// Kind is the kind of a snapshot.
type Kind uint8

// The kinds of snapshot. The zero Kind is not a valid kind.
const (
	KindUnknown Kind = iota
	KindView
	KindActive
	KindCommitted
)

var kindNames = [...]string{KindUnknown: "unknown", KindView: "view", KindActive: "active", KindCommitted: "committed"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText writes the kind by name, so stored records stay readable.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind by name; an unknown name gives KindUnknown.
func (k *Kind) UnmarshalText(b []byte) error {
	*k = KindUnknown
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
		}
	}
	return nil
}

// Info describes a snapshot.
type Info struct {
	Name    string // the key of an active snapshot or a view, the name of a committed one
	Parent  string // the committed snapshot below it, "" for none
	Kind    Kind
	Labels  map[string]string
	Created time.Time
	Updated time.Time
}

// Usage is the disk space a snapshot's own directory takes: allocated
// blocks (st_blocks × 512), each hardlinked inode counted once, and the
// number of inodes. It excludes the parents.
type Usage struct {
	Size   int64
	Inodes int64
}

// Features tells a caller how to fill an active snapshot; see the package
// documentation.
type Features struct {
	// OverlayWhiteouts: deletions are written as overlay whiteouts into an
	// active snapshot; otherwise they are applied by deleting.
	OverlayWhiteouts bool
	// Rebase: Commit accepts WithParent naming a parent other than the one
	// the snapshot was prepared on.
	Rebase bool
}

// Snapshotter keeps snapshots. Errors are classified with
// github.com/containerd/errdefs: ErrNotFound for a missing key or parent,
// ErrAlreadyExists for a key or name in use, ErrInvalidArgument for a bad
// key or a parent that is not committed, ErrFailedPrecondition for an
// operation the snapshot's kind or children forbid, ErrNotImplemented for
// a rebase the implementation cannot do.
type Snapshotter interface {
	Stat(ctx context.Context, key string) (Info, error)
	// Prepare creates an active snapshot on top of parent ("" for none) and
	// returns the mounts that present it writable.
	Prepare(ctx context.Context, key, parent string, opts ...Opt) ([]mount.Mount, error)
	// View creates a read-only snapshot of parent and returns its mounts.
	View(ctx context.Context, key, parent string, opts ...Opt) ([]mount.Mount, error)
	// Mounts returns the mounts of an active snapshot or a view again.
	Mounts(ctx context.Context, key string) ([]mount.Mount, error)
	// Commit turns the active snapshot key into the committed snapshot name,
	// labelled with the labels of opts only, and key is gone.
	Commit(ctx context.Context, name, key string, opts ...Opt) error
	// Remove deletes a snapshot that no other snapshot has as its parent.
	Remove(ctx context.Context, key string) error
	// Walk calls fn for every snapshot, outside any transaction; an error
	// from fn stops the walk and is returned.
	Walk(ctx context.Context, fn func(Info) error) error
	Usage(ctx context.Context, key string) (Usage, error)
	Features() Features
	Close() error
}

// Cleaner is implemented by snapshotters that keep directories on disk: it
// finds and removes what a crash left behind. Both overlay and native do.
type Cleaner interface {
	// Orphans lists the directories under the snapshotter's root that no
	// record names and no operation in progress is building.
	Orphans(ctx context.Context) ([]string, error)
	// Cleanup removes the orphans and returns what it removed.
	Cleanup(ctx context.Context) ([]string, error)
}
