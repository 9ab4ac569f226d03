package phys

import (
	"testing"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/drivertest"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, host string) (network.Driver, *network.Network) {
		d, err := New(Options{NetNS: host, PinDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d, &network.Network{ID: "cf", Name: "nic", Options: map[string]string{OptParent: drivertest.Parent},
			Subnet: drivertest.Subnet, Gateway: drivertest.PeerAddr.Addr()}
	})
}
