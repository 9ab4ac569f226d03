package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/daemon/containers"
	"github.com/berth-dev/berth/daemon/events"
	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/snapshot"
)

// newContainers wires the container service: host facts probed once,
// the daemon's container defaults, the shim and init programs found beside
// berthd (else in PATH); then it restores what the previous berthd left
// running.
func newContainers(ctx context.Context, cfg *config.Config, db *bolt.DB, cs *content.Store, snap snapshot.Snapshotter,
	images *image.Service, bus *events.Bus, vols containers.VolumeService, nets containers.NetworkService, log *slog.Logger) (*containers.Service, error) {
	host, err := spec.ProbeHost()
	if err != nil {
		return nil, fmt.Errorf("probe host: %w", err)
	}
	opts := []spec.Option{spec.WithHost(host)}
	for _, u := range cfg.DefaultUlimits {
		opts = append(opts, spec.WithDefaultUlimits(u))
	}
	initPath := besideBerthd("berth-init")
	if cfg.InitPath != "" {
		if initPath, err = exec.LookPath(cfg.InitPath); err == nil {
			initPath, err = filepath.Abs(initPath)
		}
		if err != nil {
			return nil, fmt.Errorf("init-path: %w", err)
		}
	} else if initPath == "" && cfg.Init {
		log.Warn("berth-init not found beside berthd nor in PATH: containers will not start under \"init\": true")
	}
	if initPath != "" || cfg.Init {
		opts = append(opts, spec.WithInit(initPath, cfg.Init))
	}
	shimPath := besideBerthd("berth-shim")
	if shimPath == "" {
		self, _ := os.Executable()
		shimPath = filepath.Join(filepath.Dir(self), "berth-shim")
		log.Warn("berth-shim not found beside berthd nor in PATH: containers will not start", "path", shimPath)
	}
	svc, err := containers.New(containers.Options{
		DB: db, Images: images.Store, Blobs: cs, Snapshots: snap, Events: bus, Committer: images,
		DataRoot: cfg.DataRoot, ExecRoot: cfg.ExecRoot, Shim: shimPath,
		Runtime: cfg.RuntimePath, DefaultRuntime: cfg.DefaultRuntime, Spec: opts,
		LogOpts: cfg.LogOpts, Driver: cfg.Snapshotter(), Logger: log, Volumes: vols,
		Networks: nets, BridgeDisabled: cfg.BridgeDisabled(),
	})
	if err != nil {
		return nil, err
	}
	if err := svc.Restore(ctx); err != nil {
		// The containers keep running under their shims for the next
		// start to find; only the service's own goroutines end.
		svc.Close(context.WithoutCancel(ctx), false, 0)
		return nil, fmt.Errorf("restore containers: %w", err)
	}
	return svc, nil
}

// closeContainers ends the container service at shutdown: with live
// restore the containers keep running under their shims, without it they
// are stopped first.
func closeContainers(svc *containers.Service, cfg *config.Config, log *slog.Logger) {
	timeout := time.Duration(cfg.ShutdownTimeout) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	if err := svc.Close(ctx, !cfg.LiveRestore, timeout); err != nil {
		log.Warn("stop containers", "error", err)
	}
}

// besideBerthd finds a helper program beside the berthd executable, else
// in PATH; "" when there is none.
func besideBerthd(name string) string {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return ""
}
