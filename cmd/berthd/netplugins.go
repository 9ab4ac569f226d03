package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/cni"
	"github.com/berth-dev/berth/network/remote"
)

// Environment overrides of the plugin directories (cnitool's NETCONFPATH
// and CNI_PATH; BERTH_NETWORK_PLUGIN_DIRS replaces Docker's
// /run/docker/plugins, /etc/docker/plugins and /usr/lib/docker/plugins),
// each a colon-separated list, for tests and unusual installs.
const (
	envCNIConf       = "NETCONFPATH"
	envCNIPath       = "CNI_PATH"
	envNetworkPlugin = "BERTH_NETWORK_PLUGIN_DIRS"
)

// pluginDrivers adds the plugin network drivers to drivers: "cni" (a
// network's CNI configuration from /etc/cni/net.d, plugins from
// /usr/lib/cni, the attachments cached under DATA/cni), and every
// Docker remote network driver plugin found at start, by its name.
// A remote plugin installed later is offered after berthd's next start.
func pluginDrivers(cfg *config.Config, drivers map[string]network.Driver, log *slog.Logger) error {
	co := cni.Options{CacheDir: filepath.Join(cfg.DataRoot, "cni")}
	if v := os.Getenv(envCNIConf); v != "" {
		co.ConfDir = v
	}
	if v := os.Getenv(envCNIPath); v != "" {
		co.Path = filepath.SplitList(v)
	}
	r, err := cni.New(co)
	if err != nil {
		return err
	}
	drivers["cni"] = cni.NewDriver(r)

	var ro remote.Options
	if v := os.Getenv(envNetworkPlugin); v != "" {
		ro.SocketDirs, ro.SpecDirs = filepath.SplitList(v), filepath.SplitList(v)
	}
	plugins := remote.New(ro)
	for _, name := range plugins.Names() {
		switch {
		case drivers[name] != nil || name == "bridge" || name == "host" || name == "null":
			log.Warn("network plugin shadowed by a driver of berth's", "plugin", name)
			continue
		case strings.HasPrefix(name, "."):
			continue
		}
		drivers[name] = plugins.NetworkDriver(name, "", filepath.Join(cfg.DataRoot, "network-plugins", name))
	}
	return nil
}
