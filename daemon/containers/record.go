package containers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// bucket holds one JSON record per container, keyed by ID.
var bucket = []byte("containers")

// record is what berthd keeps of a container across restarts.
type record struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"` // without the leading "/"
	Created time.Time `json:"created"`
	// ImageID is the image the container was created from; Config.Image
	// is the reference the request named.
	ImageID    digest.Digest         `json:"image_id"`
	Config     *container.Config     `json:"config"`
	HostConfig *container.HostConfig `json:"host_config"`
	Path       string                `json:"path"`
	Args       []string              `json:"args"`
	StopSignal string                `json:"stop_signal,omitempty"`
	HostDirs   []string              `json:"host_dirs,omitempty"` // bind sources to create at start
	Volumes    []volumeMount         `json:"volumes,omitempty"`   // named and anonymous volumes mounted
	Runtime    string                `json:"runtime"`             // the runtime's name
	State      state                 `json:"state"`
	Restarts   int                   `json:"restart_count"`
	Platform   string                `json:"platform"`
	Driver     string                `json:"driver"`
	Stopped    bool                  `json:"manually_stopped,omitempty"` // stopped by the user: no restart
	// Health is the healthcheck's state (nil without one); inspect shows
	// it under State.
	Health *container.Health `json:"health,omitempty"`
	// Networks are the networks the container joins when it starts, by
	// name, with what was asked of each (network.go); null in records
	// made before networks were, or with no networks of its own.
	Networks map[string]*network.EndpointSettings `json:"networks"`
}

// state is the container's state as inspect shows it.
type state struct {
	Status     container.ContainerState `json:"status"`
	Pid        int                      `json:"pid,omitempty"`
	ExitCode   int                      `json:"exit_code"`
	OOMKilled  bool                     `json:"oom_killed,omitempty"`
	Error      string                   `json:"error,omitempty"`
	StartedAt  time.Time                `json:"started_at"`
	FinishedAt time.Time                `json:"finished_at"`
}

// running reports whether the container has a process: running, paused,
// or between the exit and the restart of a restart policy (Docker counts
// that as running too).
func (s state) running() bool {
	switch s.Status {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return true
	}
	return false
}

// putRecord writes r in one transaction.
func putRecord(db *bolt.DB, r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode container %s: %w", r.ID, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(r.ID), data)
	})
	if err != nil {
		return fmt.Errorf("save container %s: %w", r.ID, err)
	}
	return nil
}

// deleteRecord removes a container's record.
func deleteRecord(db *bolt.DB, id string) error {
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete container %s: %w", id, err)
	}
	return nil
}

// loadRecords reads every record; one that does not decode is reported
// by ID in bad and otherwise skipped.
func loadRecords(db *bolt.DB) (recs []*record, bad []string, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil || r.ID != string(k) {
				bad = append(bad, string(k))
				return nil
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read container records: %w", err)
	}
	return recs, bad, nil
}

// decodeRecord decodes and checks a stored record.
func decodeRecord(data []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode container record: %w: %w", err, errdefs.ErrDataLoss)
	}
	if !validID(r.ID) || !validName(r.Name) || r.Config == nil || r.HostConfig == nil {
		return nil, fmt.Errorf("container record %q: id, name or configuration missing: %w", r.ID, errdefs.ErrDataLoss)
	}
	return &r, nil
}
