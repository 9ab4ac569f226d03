package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/api/server"
	"github.com/berth-dev/berth/daemon/config"
)

// lockDataRoot takes an exclusive lock on DATA-ROOT/berthd.lock for the
// daemon's lifetime, so that a second berthd over the same data root
// refuses to start. The file records the holder's PID for the message.
func lockDataRoot(dataRoot string) (*os.File, error) {
	path := filepath.Join(dataRoot, "berthd.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data root %s is in use by another berthd (pid %s)", dataRoot, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// systemInfo gathers what GET /info and /version say about this daemon.
func systemInfo(cfg *config.Config, id string, log *slog.Logger) server.SystemInfo {
	info := server.SystemInfo{
		ID:             id,
		DataRoot:       cfg.DataRoot,
		StorageDriver:  cfg.Snapshotter(),
		LoggingDriver:  cfg.LogDriver,
		DefaultRuntime: cfg.DefaultRuntime,
		Runtimes:       map[string]string{},
		Labels:         cfg.Labels,
		Mirrors:        cfg.RegistryMirrors,
		Insecure:       cfg.InsecureRegistries,
		LiveRestore:    cfg.LiveRestore,
		Debug:          cfg.Debug,
		VolumeDrivers:  []string{"local"},
		InitBinary:     "berth-init",
	}
	if cfg.InitPath != "" {
		info.InitBinary = cfg.InitPath
	}
	names := []string{config.DefaultRuntimeName}
	for name := range cfg.Runtimes {
		if name != config.DefaultRuntimeName {
			names = append(names, name)
		}
	}
	for _, name := range names {
		path, err := cfg.RuntimePath(name)
		if err != nil {
			log.Warn("runtime not found", "runtime", name, "error", err)
			path = name
		}
		info.Runtimes[name] = path
	}
	if path, ok := info.Runtimes[cfg.DefaultRuntime]; ok && filepath.IsAbs(path) {
		info.RuntimeVersion, info.RuntimeCommit = runtimeVersion(path)
	}
	return info
}

// runtimeVersion asks a runtime for its version and commit
// ("berth-runtime version X" / "runc version X", then "commit: Y").
func runtimeVersion(path string) (version, commit string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", ""
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if _, v, ok := strings.Cut(line, " version "); ok && version == "" {
			version = strings.TrimSpace(v)
		}
		if c, ok := strings.CutPrefix(line, "commit: "); ok {
			commit = strings.TrimSpace(c)
		}
	}
	return version, commit
}
