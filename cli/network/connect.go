package network

import (
	"fmt"
	"net/netip"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/cli/command"
)

// connectFlags are `berth network connect`'s flags.
type connectFlags struct {
	aliases, links, driverOpts []string
	ip, ip6                    string
	gwPriority                 int
}

func newConnectCommand(c *command.CLI) *cobra.Command {
	var o connectFlags
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			es, err := o.endpoint()
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			_, err = api.NetworkConnect(cmd.Context(), args[0], client.NetworkConnectOptions{Container: args[1], EndpointConfig: es})
			return err
		},
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *connectFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&o.aliases, "alias", nil, "Add network-scoped alias for the container")
	f.StringVar(&o.ip, "ip", "", "IPv4 address (e.g., \"172.30.100.104\")")
	f.StringVar(&o.ip6, "ip6", "", "IPv6 address (e.g., \"2001:db8::33\")")
	f.StringArrayVar(&o.links, "link", nil, "Add link to another container")
	f.StringArrayVar(&o.driverOpts, "driver-opt", nil, "driver options for the network")
	f.IntVar(&o.gwPriority, "gw-priority", 0, "Highest gw-priority provides the default gateway. Accepts positive and negative values.")
}

// endpoint is the endpoint configuration the flags describe.
func (o *connectFlags) endpoint() (*network.EndpointSettings, error) {
	es := &network.EndpointSettings{Aliases: o.aliases, Links: o.links, GwPriority: o.gwPriority}
	var err error
	if es.IPAMConfig, err = EndpointIPAM(o.ip, o.ip6); err != nil {
		return nil, err
	}
	if len(o.driverOpts) > 0 {
		if es.DriverOpts, err = command.KeyValues(o.driverOpts, "driver-opt"); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// EndpointIPAM is the static addresses of --ip and --ip6 (nil: none);
// run and create share it.
func EndpointIPAM(ip, ip6 string) (*network.EndpointIPAMConfig, error) {
	if ip == "" && ip6 == "" {
		return nil, nil
	}
	cfg := &network.EndpointIPAMConfig{}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("invalid IPv4 address: %s", ip)
		}
		cfg.IPv4Address = a
	}
	if ip6 != "" {
		a, err := netip.ParseAddr(ip6)
		if err != nil || !a.Is6() {
			return nil, fmt.Errorf("invalid IPv6 address: %s", ip6)
		}
		cfg.IPv6Address = a
	}
	return cfg, nil
}

func newDisconnectCommand(c *command.CLI) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			_, err = api.NetworkDisconnect(cmd.Context(), args[0], client.NetworkDisconnectOptions{Container: args[1], Force: force})
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}
