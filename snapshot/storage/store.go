package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/snapshot"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

var (
	keysBucket     = []byte("keys")
	childrenBucket = []byte("children")
)

// Record is what the database keeps about one snapshot.
type Record struct {
	ID      uint64            `json:"id"`
	Kind    snapshot.Kind     `json:"kind"`
	Parent  string            `json:"parent,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
}

// Store keeps one snapshotter's records and directories.
type Store struct {
	dir    string // R/snapshots
	db     *bolt.DB
	bucket []byte

	mu       sync.Mutex
	building map[string]bool // names of new-* dirs in progress, kept from Cleanup
}

// Open prepares root/snapshots and the top-level bucket. The database
// belongs to the caller, who closes it.
func Open(root string, db *bolt.DB, bucket string) (*Store, error) {
	dir := filepath.Join(root, "snapshots")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open snapshot store %s: %w", dir, err)
	}
	s := &Store{dir: dir, db: db, bucket: []byte(bucket), building: map[string]bool{}}
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(s.bucket)
		if err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists(keysBucket); err != nil {
			return err
		}
		_, err = b.CreateBucketIfNotExists(childrenBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open snapshot bucket %s: %w", bucket, err)
	}
	return s, nil
}

// Dir is the directory of snapshot id.
func (s *Store) Dir(id uint64) string { return filepath.Join(s.dir, strconv.FormatUint(id, 10)) }

// FS is the files directory of snapshot id.
func (s *Store) FS(id uint64) string { return filepath.Join(s.Dir(id), "fs") }

// Work is the overlay work directory of snapshot id.
func (s *Store) Work(id uint64) string { return filepath.Join(s.Dir(id), "work") }

func checkKey(key string) error {
	if key == "" || strings.ContainsRune(key, 0) {
		return fmt.Errorf("snapshot key %q: %w", key, errdefs.ErrInvalidArgument)
	}
	return nil
}

func (s *Store) buckets(tx *bolt.Tx) (keys, children *bolt.Bucket) {
	b := tx.Bucket(s.bucket)
	return b.Bucket(keysBucket), b.Bucket(childrenBucket)
}

func getRecord(keys *bolt.Bucket, key string) (Record, error) {
	v := keys.Get([]byte(key))
	if v == nil {
		return Record{}, fmt.Errorf("snapshot %s: %w", key, errdefs.ErrNotFound)
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return Record{}, fmt.Errorf("snapshot %s: record: %v: %w", key, err, errdefs.ErrDataLoss)
	}
	return r, nil
}

func putRecord(keys *bolt.Bucket, key string, r Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return keys.Put([]byte(key), v)
}

func childKey(parent, child string) []byte { return []byte(parent + "\x00" + child) }

// chain resolves the ids of parent and its ancestors, nearest first.
func chain(keys *bolt.Bucket, parent string) ([]uint64, error) {
	var ids []uint64
	for name := parent; name != ""; {
		r, err := getRecord(keys, name)
		if err != nil {
			return nil, fmt.Errorf("parent: %w", err)
		}
		if r.Kind != snapshot.KindCommitted {
			return nil, fmt.Errorf("parent %s is %s, not committed: %w", name, r.Kind, errdefs.ErrInvalidArgument)
		}
		ids = append(ids, r.ID)
		if len(ids) > 10000 {
			return nil, fmt.Errorf("parent chain of %s: too long or cyclic: %w", parent, errdefs.ErrDataLoss)
		}
		name = r.Parent
	}
	return ids, nil
}

// Get returns key's record and the ids of its parents, nearest first.
func (s *Store) Get(ctx context.Context, key string) (r Record, parents []uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		keys, _ := s.buckets(tx)
		if r, err = getRecord(keys, key); err != nil {
			return err
		}
		parents, err = chain(keys, r.Parent)
		return err
	})
	return r, parents, err
}

func info(key string, r Record) snapshot.Info {
	return snapshot.Info{Name: key, Parent: r.Parent, Kind: r.Kind, Labels: maps.Clone(r.Labels),
		Created: r.Created, Updated: r.Updated}
}

// Stat describes key.
func (s *Store) Stat(ctx context.Context, key string) (snapshot.Info, error) {
	var r Record
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		keys, _ := s.buckets(tx)
		r, err = getRecord(keys, key)
		return err
	})
	if err != nil {
		return snapshot.Info{}, err
	}
	return info(key, r), nil
}

// Walk calls fn for each snapshot in key order. The records are read in one
// transaction and fn runs after it ends, so fn may call back into the store.
func (s *Store) Walk(ctx context.Context, fn func(snapshot.Info) error) error {
	var infos []snapshot.Info
	err := s.db.View(func(tx *bolt.Tx) error {
		keys, _ := s.buckets(tx)
		return keys.ForEach(func(k, _ []byte) error {
			r, err := getRecord(keys, string(k))
			if err != nil {
				return err
			}
			infos = append(infos, info(string(k), r))
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("walk snapshots: %w", err)
	}
	for _, in := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}
