package image

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
)

// Buckets of berth.db this package owns.
var (
	bucketImages = []byte("images")
	bucketRefs   = []byte("image-refs")
	bucketLeases = []byte("leases")
)

// Image is what the store records of an image.
type Image struct {
	ID       digest.Digest        `json:"id"`       // the config's digest
	Target   ocispec.Descriptor   `json:"target"`   // what was pulled or loaded: an index or a manifest
	Manifest ocispec.Descriptor   `json:"manifest"` // the manifest for this image's platform
	Config   ocispec.Descriptor   `json:"config"`
	Layers   []ocispec.Descriptor `json:"layers"`
	DiffIDs  []digest.Digest      `json:"diffIDs"`
	Platform ocispec.Platform     `json:"platform"`
	Created  time.Time            `json:"created"` // from the config
	Size     int64                `json:"size"`    // uncompressed size of all layers
	Added    time.Time            `json:"added"`
}

// ChainIDs returns the chain ID of each layer: the name of the snapshot
// holding the layers up to and including it (OCI image spec, config.md).
func (img *Image) ChainIDs() []digest.Digest {
	return ChainIDs(img.DiffIDs)
}

// ChainIDs computes chain IDs from diff IDs: ChainID(L0) = DiffID(L0),
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = digest.FromString(out[i-1].String() + " " + d.String())
	}
	return out
}

// Named is an image with the references that point at it.
type Named struct {
	Image
	Names []string // full references, sorted
}

// Store records images and their references in bbolt.
type Store struct {
	db *bolt.DB
}

// NewStore returns a store over db, creating its buckets.
func NewStore(db *bolt.DB) (*Store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketImages, bucketRefs, bucketLeases} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create image buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// Put records an image and points names (full references) at it, in one
// transaction. A name that pointed at another image moves.
func (s *Store) Put(ctx context.Context, img Image, names ...string) error {
	return s.PutReleasing(ctx, nil, img, names...)
}

// Tag points a reference at an existing image.
func (s *Store) Tag(ctx context.Context, id digest.Digest, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketImages).Get([]byte(id)) == nil {
			return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
		}
		return tx.Bucket(bucketRefs).Put([]byte(name), []byte(id))
	})
}

// Untag removes a reference and returns the image it pointed at.
func (s *Store) Untag(ctx context.Context, name string) (digest.Digest, error) {
	var id digest.Digest
	err := s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRefs).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("reference %s: %w", name, errdefs.ErrNotFound)
		}
		id = digest.Digest(v)
		return tx.Bucket(bucketRefs).Delete([]byte(name))
	})
	return id, err
}

// Delete removes an image and every reference to it. Its blobs and
// snapshots stay until GC.
func (s *Store) Delete(ctx context.Context, id digest.Digest) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketImages).Get([]byte(id)) == nil {
			return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
		}
		refs := tx.Bucket(bucketRefs)
		var drop [][]byte
		refs.ForEach(func(k, v []byte) error {
			if digest.Digest(v) == id {
				drop = append(drop, slices.Clone(k))
			}
			return nil
		})
		for _, k := range drop {
			if err := refs.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketImages).Delete([]byte(id))
	})
}

// Get finds an image by full reference, by ID ("sha256:…" or bare hex),
// or by a unique ID prefix of at least 4 hex digits, as Docker does.
func (s *Store) Get(ctx context.Context, ref string) (Named, error) {
	var out Named
	err := s.db.View(func(tx *bolt.Tx) error {
		id, err := resolve(tx, ref)
		if err != nil {
			return err
		}
		out, err = named(tx, id)
		return err
	})
	return out, err
}

// resolve turns a reference or (short) ID into an image ID.
func resolve(tx *bolt.Tx, ref string) (digest.Digest, error) {
	images := tx.Bucket(bucketImages)
	if v := tx.Bucket(bucketRefs).Get([]byte(ref)); v != nil {
		return digest.Digest(v), nil
	}
	if r, err := ParseReference(ref); err == nil {
		if v := tx.Bucket(bucketRefs).Get([]byte(r.Name())); v != nil {
			return digest.Digest(v), nil
		}
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if len(hex) >= 4 && len(hex) <= 64 && strings.Trim(hex, "0123456789abcdef") == "" {
		prefix := []byte("sha256:" + hex)
		c := images.Cursor()
		k, _ := c.Seek(prefix)
		if k != nil && strings.HasPrefix(string(k), string(prefix)) {
			if k2, _ := c.Next(); k2 != nil && strings.HasPrefix(string(k2), string(prefix)) {
				return "", fmt.Errorf("image ID prefix %s is ambiguous: %w", hex, errdefs.ErrInvalidArgument)
			}
			return digest.Digest(k), nil
		}
	}
	return "", fmt.Errorf("no such image: %s: %w", ref, errdefs.ErrNotFound)
}

// named reads an image and collects its references.
func named(tx *bolt.Tx, id digest.Digest) (Named, error) {
	var n Named
	v := tx.Bucket(bucketImages).Get([]byte(id))
	if v == nil {
		return n, fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
	}
	if err := json.Unmarshal(v, &n.Image); err != nil {
		return n, fmt.Errorf("decode image record %s: %w", id, errdefs.ErrDataLoss)
	}
	tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
		if digest.Digest(v) == id {
			n.Names = append(n.Names, string(k))
		}
		return nil
	})
	return n, nil
}

// List returns every image with its references, newest first.
func (s *Store) List(ctx context.Context) ([]Named, error) {
	var out []Named
	err := s.db.View(func(tx *bolt.Tx) error {
		names := map[digest.Digest][]string{}
		tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
			names[digest.Digest(v)] = append(names[digest.Digest(v)], string(k))
			return nil
		})
		return tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
			n := Named{Names: names[digest.Digest(k)]}
			if err := json.Unmarshal(v, &n.Image); err != nil {
				return fmt.Errorf("decode image record %s: %w", k, errdefs.ErrDataLoss)
			}
			out = append(out, n)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}
