package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// Lease keeps what an operation in progress has made (blobs, staging and
// committed snapshots) from the collector until the operation records an
// image or gives up. A lease outlives a crash of berthd only until it
// expires, so what a killed pull left is collected eventually.
type Lease struct {
	ID        string          `json:"id"`
	Expires   time.Time       `json:"expires"`
	Digests   []digest.Digest `json:"digests,omitempty"`
	Snapshots []string        `json:"snapshots,omitempty"`
}

// NewLease records a lease that expires after ttl.
func (s *Store) NewLease(ctx context.Context, ttl time.Duration) (*Lease, error) {
	var b [12]byte
	rand.Read(b[:])
	l := &Lease{ID: hex.EncodeToString(b[:]), Expires: time.Now().Add(ttl)}
	return l, s.putLease(l)
}

// AddToLease adds blobs and snapshot keys to a lease, in one transaction.
func (s *Store) AddToLease(ctx context.Context, l *Lease, digests []digest.Digest, snapshots []string) error {
	l.Digests = append(l.Digests, digests...)
	l.Snapshots = append(l.Snapshots, snapshots...)
	return s.putLease(l)
}

func (s *Store) putLease(l *Lease) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketLeases).Put([]byte(l.ID), data); err != nil {
			return fmt.Errorf("record lease %s: %w", l.ID, err)
		}
		return nil
	})
}

// ReleaseLease removes a lease; what only it protected becomes garbage.
func (s *Store) ReleaseLease(ctx context.Context, l *Lease) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLeases).Delete([]byte(l.ID))
	})
}

// PutReleasing records an image with its names and releases a lease in
// the same transaction, so there is no moment in which the image's parts
// are protected by neither.
func (s *Store) PutReleasing(ctx context.Context, l *Lease, img Image, names ...string) error {
	data, err := json.Marshal(img)
	if err != nil {
		return fmt.Errorf("encode image %s: %w", img.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketImages).Put([]byte(img.ID), data); err != nil {
			return fmt.Errorf("record image %s: %w", img.ID, err)
		}
		for _, n := range names {
			if err := tx.Bucket(bucketRefs).Put([]byte(n), []byte(img.ID)); err != nil {
				return fmt.Errorf("record reference %s: %w", n, err)
			}
		}
		if l != nil {
			return tx.Bucket(bucketLeases).Delete([]byte(l.ID))
		}
		return nil
	})
}

// leases returns the unexpired leases and deletes expired ones.
func leases(tx *bolt.Tx, now time.Time) ([]Lease, error) {
	var live []Lease
	var expired [][]byte
	b := tx.Bucket(bucketLeases)
	err := b.ForEach(func(k, v []byte) error {
		var l Lease
		if err := json.Unmarshal(v, &l); err != nil || now.After(l.Expires) {
			expired = append(expired, append([]byte(nil), k...))
			return nil
		}
		live = append(live, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if tx.Writable() {
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return live, nil
}

// dropLeases removes every lease.
func (s *Store) dropLeases(ctx context.Context) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketLeases); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketLeases)
		return err
	})
}
