package main

import (
	"log/slog"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/daemon/events"
	"github.com/berth-dev/berth/daemon/volumes"
)

// newVolumes wires the volume service over DATA/volumes. The container
// service declares its containers' references to it when it loads them.
func newVolumes(cfg *config.Config, db *bolt.DB, bus *events.Bus, log *slog.Logger) (*volumes.Service, error) {
	return volumes.New(volumes.Options{DB: db, Root: filepath.Join(cfg.DataRoot, "volumes"), Events: bus, Logger: log})
}
