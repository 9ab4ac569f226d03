package main

import (
	"path/filepath"

	"github.com/berth-dev/berth/daemon/config"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/macvlan"
	"github.com/berth-dev/berth/network/phys"
	"github.com/berth-dev/berth/network/vlan"
)

// linkDrivers are the network drivers besides bridge that give
// containers links of the host's interfaces: macvlan, vlan and phys.
// They work in berthd's own network namespace and live as long as
// berthd. phys pins the namespaces of the containers holding a host
// interface under EXEC-ROOT/netns-phys.
func linkDrivers(cfg *config.Config) (map[string]network.Driver, error) {
	mv, err := macvlan.New("")
	if err != nil {
		return nil, err
	}
	vl, err := vlan.New("")
	if err != nil {
		mv.Close()
		return nil, err
	}
	ph, err := phys.New(phys.Options{PinDir: filepath.Join(cfg.ExecRoot, "netns-phys")})
	if err != nil {
		mv.Close()
		vl.Close()
		return nil, err
	}
	return map[string]network.Driver{"macvlan": mv, "vlan": vl, "phys": ph}, nil
}
