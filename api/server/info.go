package server

import (
	"context"
	"github.com/berth-dev/berth/internal/sysinfo"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	apiregistry "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
)

// info answers GET /info with the daemon's configuration, the host's
// facts and the counts of what the store holds.
func (s *Server) info(ctx context.Context, sys System) (system.Info, error) {
	imgs, err := sys.Images.List(ctx)
	if err != nil {
		return system.Info{}, err
	}
	cg := probeCgroups()
	osName, osVersion := osRelease()
	hostname, _ := os.Hostname()
	in := sys.Info
	info := system.Info{
		ID:                 in.ID,
		Images:             len(imgs),
		Driver:             in.StorageDriver,
		DriverStatus:       [][2]string{{"Backing Filesystem", backingFilesystem(in.DataRoot)}, {"Supports d_type", "true"}},
		Plugins:            system.PluginsInfo{Volume: in.VolumeDrivers, Network: in.NetworkDrivers, Log: []string{in.LoggingDriver}},
		MemoryLimit:        cg.memory,
		SwapLimit:          cg.swap,
		CPUCfsPeriod:       cg.cfsPeriod,
		CPUCfsQuota:        cg.cfsQuota,
		CPUShares:          cg.shares,
		CPUSet:             cg.cpuset,
		PidsLimit:          cg.pids,
		OomKillDisable:     cg.oomKillDisable,
		IPv4Forwarding:     ipv4Forwarding(),
		Debug:              in.Debug,
		NFd:                openFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      in.LoggingDriver,
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cg.version,
		KernelVersion:      kernelVersion(),
		OperatingSystem:    osName,
		OSVersion:          osVersion,
		OSType:             runtime.GOOS,
		Architecture:       machine(),
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     registryConfig(in.Mirrors, in.Insecure),
		NCPU:               runtime.NumCPU(),
		MemTotal:           sysinfo.MemTotal(),
		DockerRootDir:      in.DataRoot,
		HTTPProxy:          proxyEnv("HTTP_PROXY"),
		HTTPSProxy:         proxyEnv("HTTPS_PROXY"),
		NoProxy:            proxyEnv("NO_PROXY"),
		Name:               hostname,
		Labels:             in.Labels,
		ServerVersion:      s.opts.Version,
		Runtimes:           map[string]system.RuntimeWithStatus{},
		DefaultRuntime:     in.DefaultRuntime,
		Swarm:              swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		LiveRestoreEnabled: in.LiveRestore,
		RuncCommit:         system.Commit{ID: in.RuntimeCommit},
		InitBinary:         in.InitBinary,
		SecurityOptions:    []string{"name=seccomp,profile=builtin"},
		CDISpecDirs:        []string{},
		Warnings:           []string{},
	}
	if sys.Events != nil {
		info.NEventsListener = sys.Events.Listeners()
	}
	if cg.version == "2" {
		info.SecurityOptions = append(info.SecurityOptions, "name=cgroupns")
	}
	for name, path := range in.Runtimes {
		info.Runtimes[name] = system.RuntimeWithStatus{Runtime: system.Runtime{Path: path}}
	}
	if sys.Containers != nil {
		if info.Containers, info.ContainersRunning, info.ContainersPaused, info.ContainersStopped, err = sys.Containers.ContainerCounts(ctx); err != nil {
			return system.Info{}, err
		}
	}
	// The warnings dockerd gives for a host that cannot enforce a limit
	// users may ask for.
	if !cg.memory {
		info.Warnings = append(info.Warnings, "WARNING: No memory limit support")
	}
	if !cg.swap {
		info.Warnings = append(info.Warnings, "WARNING: No swap limit support")
	}
	if !cg.cfsQuota {
		info.Warnings = append(info.Warnings, "WARNING: No cpu cfs quota support")
	}
	return info, nil
}

// registryConfig reports the mirrors and the insecure registries (hosts
// and networks; loopback is always insecure) as dockerd does.
func registryConfig(mirrors, insecure []string) *apiregistry.ServiceConfig {
	cfg := &apiregistry.ServiceConfig{
		InsecureRegistryCIDRs: []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.0/8")},
		IndexConfigs: map[string]*apiregistry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true},
		},
		Mirrors: []string{},
	}
	for _, m := range mirrors {
		if !strings.Contains(m, "://") {
			m = "https://" + m
		}
		m = strings.TrimSuffix(m, "/") + "/"
		cfg.Mirrors = append(cfg.Mirrors, m)
	}
	cfg.IndexConfigs["docker.io"].Mirrors = cfg.Mirrors
	for _, e := range insecure {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			cfg.InsecureRegistryCIDRs = append(cfg.InsecureRegistryCIDRs, p.Masked())
			continue
		}
		host := strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
		host, _, _ = strings.Cut(host, "/")
		if host == "" {
			continue
		}
		cfg.IndexConfigs[host] = &apiregistry.IndexInfo{Name: host, Mirrors: []string{}, Secure: false}
	}
	sort.Slice(cfg.InsecureRegistryCIDRs, func(i, j int) bool {
		return cfg.InsecureRegistryCIDRs[i].String() < cfg.InsecureRegistryCIDRs[j].String()
	})
	return cfg
}

// proxyEnv reports a proxy variable with any password masked.
func proxyEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		v = os.Getenv(strings.ToLower(name))
	}
	if i := strings.Index(v, "@"); i > 0 {
		if j := strings.Index(v, "://"); j >= 0 && j < i {
			if user, _, ok := strings.Cut(v[j+3:i], ":"); ok {
				v = v[:j+3] + user + ":xxxxx" + v[i:]
			}
		}
	}
	return v
}
