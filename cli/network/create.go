package network

import (
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/cli/command"
)

// createFlags are `berth network create`'s flags.
type createFlags struct {
	driver, ipamDriver               string
	subnets, ranges, gateways        []string
	auxAddresses, opts, labels       []string
	internal, attachable, ipv4, ipv6 bool
}

func newCreateCommand(c *command.CLI) *cobra.Command {
	var o createFlags
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := o.options(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.NetworkCreate(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			for _, w := range res.Warning {
				fmt.Fprintf(c.Err, "WARNING: %s\n", w)
			}
			fmt.Fprintln(c.Out, res.ID)
			return nil
		},
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *createFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&o.driver, "driver", "d", "bridge", "Driver to manage the Network")
	f.StringVar(&o.ipamDriver, "ipam-driver", "default", "IP Address Management Driver")
	f.StringArrayVar(&o.subnets, "subnet", nil, "Subnet in CIDR format that represents a network segment")
	f.StringArrayVar(&o.ranges, "ip-range", nil, "Allocate container ip from a sub-range")
	f.StringArrayVar(&o.gateways, "gateway", nil, "IPv4 or IPv6 Gateway for the master subnet")
	f.StringArrayVar(&o.auxAddresses, "aux-address", nil, "Auxiliary IPv4 or IPv6 addresses used by Network driver")
	f.StringArrayVarP(&o.opts, "opt", "o", nil, "Set driver specific options")
	f.StringArrayVar(&o.labels, "label", nil, "Set metadata on a network")
	f.BoolVar(&o.internal, "internal", false, "Restrict external access to the network")
	f.BoolVar(&o.attachable, "attachable", false, "Enable manual container attachment")
	f.BoolVar(&o.ipv4, "ipv4", true, "Enable or disable IPv4 address assignment")
	f.BoolVar(&o.ipv6, "ipv6", false, "Enable or disable IPv6 address assignment (not supported by berthd yet)")
}

// options is the create request the flags describe; changed tells which
// flags were given (--ipv4 and --ipv6 are sent only then).
func (o *createFlags) options(changed func(string) bool) (client.NetworkCreateOptions, error) {
	opts := client.NetworkCreateOptions{Driver: o.driver, Internal: o.internal, Attachable: o.attachable}
	var err error
	if opts.Options, err = command.KeyValues(o.opts, "opt"); err != nil {
		return opts, err
	}
	if opts.Labels, err = command.KeyValues(o.labels, "label"); err != nil {
		return opts, err
	}
	if opts.IPAM, err = ipam(o.ipamDriver, o.subnets, o.ranges, o.gateways, o.auxAddresses); err != nil {
		return opts, err
	}
	if changed("ipv4") {
		opts.EnableIPv4 = &o.ipv4
	}
	if changed("ipv6") {
		opts.EnableIPv6 = &o.ipv6
	}
	return opts, nil
}
