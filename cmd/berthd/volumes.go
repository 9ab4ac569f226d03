package main

import (
	"log/slog"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/daemon/events"
	"github.com/berth-dev/berth/volume"
)

// newVolumes wires the volume service over DATA/volumes. The container
// service declares its containers' references to it when it loads them.
func newVolumes(cfg *config.Config, db *bolt.DB, bus *events.Bus, log *slog.Logger) (*volume.Service, error) {
	return volume.New(volume.Options{DB: db, Root: filepath.Join(cfg.DataRoot, "volumes"), Events: bus, Logger: log})
}
