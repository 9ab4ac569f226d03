package macvlan

import (
	"testing"

	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/network/drivertest"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, host string) (network.Driver, *network.Network) {
		d, err := New(host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d, &network.Network{ID: "cf", Name: "mv", Options: map[string]string{OptParent: drivertest.Parent},
			Subnet: drivertest.Subnet, Gateway: drivertest.PeerAddr.Addr()}
	})
}
