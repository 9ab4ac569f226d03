package volume

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucket holds one JSON record per volume, keyed by name.
var bucket = []byte("volumes")

// record is what berthd keeps of a volume.
type record struct {
	Name      string            `json:"name"`
	Driver    string            `json:"driver"`
	Labels    map[string]string `json:"labels,omitempty"`
	Options   map[string]string `json:"options,omitempty"` // type, device, o
	CreatedAt time.Time         `json:"created_at"`
}

func (r *record) anonymous() bool {
	_, ok := r.Labels[LabelAnonymous]
	return ok
}

// putRecord writes r in one transaction.
func putRecord(db *bolt.DB, r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode volume %s: %w", r.Name, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(r.Name), data)
	})
	if err != nil {
		return fmt.Errorf("save volume %s: %w", r.Name, err)
	}
	return nil
}

// deleteRecord removes a volume's record.
func deleteRecord(db *bolt.DB, name string) error {
	err := db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			return b.Delete([]byte(name))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", name, err)
	}
	return nil
}

// loadRecords reads every record; one that does not decode is reported
// by key in bad and otherwise skipped (New adopts its directory again).
func loadRecords(db *bolt.DB) (out []*record, bad []string, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil || r.Name != string(k) || !ValidName(r.Name) {
				bad = append(bad, string(k))
				return nil
			}
			if r.Driver == "" {
				r.Driver = Driver
			}
			out = append(out, &r)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read volume records: %w", err)
	}
	return out, bad, nil
}
