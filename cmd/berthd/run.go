package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/api/server"
	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/daemon/events"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/native"
	"github.com/berth-dev/berth/snapshot/overlay"
)

// Shutdown bounds: requests in flight get drainTimeout to finish, then
// are cancelled and get cancelGrace to return.
const (
	drainTimeout = 15 * time.Second
	cancelGrace  = 5 * time.Second
)

// run wires berthd's services over the data root and serves the API
// until SIGTERM or SIGINT.
func run(cfg *config.Config, log *slog.Logger) error {
	if os.Geteuid() != 0 {
		return errors.New("berthd needs to run as root")
	}
	ctx := context.Background()
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	lock, err := lockDataRoot(cfg.DataRoot)
	if err != nil {
		return err
	}
	defer lock.Close()

	// Storage: one bbolt database for every record, the content store of
	// blobs, the snapshotter of unpacked layers.
	db, err := bolt.Open(filepath.Join(cfg.DataRoot, "berth.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	cs, err := content.Open(filepath.Join(cfg.DataRoot, "content"))
	if err != nil {
		return err
	}
	snap, err := openSnapshotter(cfg, db)
	if err != nil {
		return err
	}
	defer snap.Close()

	// Images: registry credentials come only from each API request's
	// X-Registry-Auth, never from a config.json of the host.
	reg := registry.New(registry.Options{
		Keychain:  server.Keychain(),
		Mirrors:   map[string][]string{"docker.io": cfg.RegistryMirrors},
		Insecure:  cfg.InsecureRegistries,
		UserAgent: "berthd/" + version,
	})
	images, err := image.NewService(db, cs, snap, reg)
	if err != nil {
		return err
	}
	if err := images.Recover(ctx); err != nil {
		return fmt.Errorf("recover image store: %w", err)
	}
	if c, ok := snap.(snapshot.Cleaner); ok {
		removed, err := c.Cleanup(ctx)
		if err != nil {
			log.Warn("clean snapshot orphans", "error", err)
		} else if len(removed) > 0 {
			log.Info("removed orphaned snapshot directories", "count", len(removed))
		}
	}
	bus := events.New(0)
	// Containers run under shims that outlive berthd: restored here,
	// left running at shutdown with live restore (containers.go).
	// Volumes: the containers hold references to them, and mount them
	// while they run; mounts no restored container needs come off.
	vols, err := newVolumes(cfg, db, bus, log)
	if err != nil {
		return err
	}
	// Networks: bridges, veths and rules outlive berthd as the
	// containers do; the container service's Restore says which stay.
	nets, err := newNetworks(cfg, db, log)
	if err != nil {
		return err
	}
	defer nets.Close()
	ctrs, err := newContainers(ctx, cfg, db, cs, snap, images, bus, vols, nets, log)
	if err != nil {
		return err
	}
	vols.UnmountUnused(ctx)
	defer closeContainers(ctrs, cfg, log)

	// The API.
	id, err := config.EngineID(cfg.DataRoot)
	if err != nil {
		return err
	}
	srv := server.New(server.Options{Version: version, Commit: commit, Logger: log})
	srv.AddSystem(server.System{
		Info:       systemInfo(cfg, id, log),
		Images:     images.Store,
		Usage:      images,
		Events:     bus,
		Registry:   reg,
		Containers: ctrs,
		Store:      images,
		Volumes:    vols,
	})
	srv.AddImages(server.Images{
		Service: images, Store: images.Store, Blobs: cs, Layers: snap, Events: bus,
		Driver: cfg.Snapshotter(), PullConcurrency: cfg.MaxConcurrentDownloads,
		Users: server.ContainerImageUsers(ctrs),
	})
	srv.AddContainers(server.Containers{Backend: ctrs, Exec: ctrs, Archive: ctrs, Commit: ctrs})
	srv.AddVolumes(vols)
	srv.AddNetworks(nets, ctrs, bus)

	listeners, err := listen(cfg)
	if err != nil {
		return err
	}
	pidfile := cfg.PidfilePath()
	if err := os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		closeAll(listeners)
		return fmt.Errorf("write pid file: %w", err)
	}
	defer os.Remove(pidfile)
	return serve(srv, listeners, log)
}

// serve runs the API until a signal, then shuts down: stop accepting,
// let requests in flight finish (bounded), cancel the rest. A second
// signal cuts the wait short.
func serve(srv *server.Server, listeners []net.Listener, log *slog.Logger) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listeners...) }()
	log.Info("berthd started", "version", version, "pid", os.Getpid())
	var serveErr error
	for waiting := true; waiting; {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				log.Info("SIGHUP: configuration reload is not supported; restart berthd to apply changes")
				continue
			}
			log.Info("shutting down", "signal", sig.String())
			waiting = false
		case serveErr = <-served:
			log.Error("serving the API failed", "error", serveErr)
			waiting = false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			log.Warn("second signal: cancelling requests in flight")
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := srv.Shutdown(ctx, cancelGrace); err != nil {
		log.Warn("shutdown", "error", err)
	}
	closeAll(listeners)
	log.Info("berthd stopped")
	return serveErr
}

// listen opens every configured API address.
func listen(cfg *config.Config) ([]net.Listener, error) {
	hosts, err := cfg.ListenHosts()
	if err != nil {
		return nil, err
	}
	var ls []net.Listener
	for _, h := range hosts {
		var l net.Listener
		switch h.Proto {
		case "unix":
			l, err = server.ListenUnix(h.Addr, cfg.Group)
		case "tcp":
			l, err = server.ListenTLS(h.Addr, server.TLSFiles{CA: cfg.TLSCACert, Cert: cfg.TLSCert, Key: cfg.TLSKey})
		}
		if err != nil {
			closeAll(ls)
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// openSnapshotter opens the snapshotter the storage driver names.
func openSnapshotter(cfg *config.Config, db *bolt.DB) (snapshot.Snapshotter, error) {
	if cfg.Snapshotter() == "native" {
		return native.New(cfg.DataRoot, db)
	}
	return overlay.New(cfg.DataRoot, db)
}
