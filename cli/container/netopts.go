package container

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/cli/command"
	netcli "github.com/berth-dev/berth/cli/network"
)

// networkFlags are run and create's network flags: --network (again for
// each network; NAME or docker's advanced "name=N,alias=A,ip=I,..."),
// and --network-alias, --ip, --ip6 and --mac-address, which apply to the
// first network.
type networkFlags struct {
	networks, aliases []string
	ip, ip6, mac      string
}

func (o *networkFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&o.networks, "network", nil, "Connect a container to a network")
	f.StringArrayVar(&o.networks, "net", nil, "Connect a container to a network")
	f.MarkHidden("net")
	f.StringArrayVar(&o.aliases, "network-alias", nil, "Add network-scoped alias for the container")
	f.StringArrayVar(&o.aliases, "net-alias", nil, "Add network-scoped alias for the container")
	f.MarkHidden("net-alias")
	f.StringVar(&o.ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	f.StringVar(&o.ip6, "ip6", "", "IPv6 address (e.g., 2001:db8::33)")
	f.StringVar(&o.mac, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
}

// attachmentOpt is one --network: the network and what the container
// asks of it there.
type attachmentOpt struct {
	target string
	es     network.EndpointSettings
}

// parse returns the network mode (the first network; empty: the
// daemon's default) and the endpoint configurations by network, as the
// docker CLI builds them: a single network without options sends none,
// and --ip and the like without --network go to "default".
func (o *networkFlags) parse() (container.NetworkMode, map[string]*network.EndpointSettings, error) {
	var atts []attachmentOpt
	for _, v := range o.networks {
		a, err := parseAttachment(v)
		if err != nil {
			return "", nil, err
		}
		atts = append(atts, a)
	}
	mode := container.NetworkMode("")
	if len(atts) == 0 {
		atts = []attachmentOpt{{target: network.NetworkDefault}}
	} else {
		mode = container.NetworkMode(atts[0].target)
	}
	if err := o.applyTo(&atts[0].es); err != nil {
		return "", nil, err
	}
	endpoints := map[string]*network.EndpointSettings{}
	var userDefined, builtin bool
	for _, a := range atts {
		if container.NetworkMode(a.target).IsUserDefined() {
			userDefined = true
		} else {
			builtin = true
		}
		if _, ok := endpoints[a.target]; ok {
			return "", nil, fmt.Errorf("network %q is specified multiple times", a.target)
		}
		es := a.es
		if len(atts) == 1 && isEmptyEndpoint(&es) {
			continue
		}
		endpoints[a.target] = &es
	}
	if userDefined && builtin {
		return "", nil, fmt.Errorf("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
	}
	return mode, endpoints, nil
}

// applyTo sets the first network's endpoint from --network-alias, --ip,
// --ip6 and --mac-address, refusing them where the advanced --network
// syntax set the same.
func (o *networkFlags) applyTo(es *network.EndpointSettings) error {
	if len(o.aliases) > 0 {
		if len(es.Aliases) > 0 {
			return fmt.Errorf("conflicting options: cannot specify both --network-alias and per-network alias")
		}
		es.Aliases = append([]string{}, o.aliases...)
	}
	if o.ip != "" || o.ip6 != "" {
		if es.IPAMConfig != nil {
			return fmt.Errorf("conflicting options: cannot specify both --ip/--ip6 and per-network IP addresses")
		}
		cfg, err := netcli.EndpointIPAM(o.ip, o.ip6)
		if err != nil {
			return err
		}
		es.IPAMConfig = cfg
	}
	if o.mac != "" {
		if len(es.MacAddress) > 0 {
			return fmt.Errorf("conflicting options: cannot specify both --mac-address and per-network MAC address")
		}
		mac, err := parseMAC(o.mac)
		if err != nil {
			return err
		}
		es.MacAddress = mac
	}
	return nil
}

func isEmptyEndpoint(es *network.EndpointSettings) bool {
	return len(es.Aliases) == 0 && es.IPAMConfig == nil && len(es.MacAddress) == 0 && len(es.DriverOpts) == 0 &&
		es.GwPriority == 0 && len(es.Links) == 0
}

// parseAttachment reads one --network value: NAME, or docker's
// advanced syntax "name=NAME,alias=A,ip=IP,ip6=IP,mac-address=MAC,
// driver-opt=K=V,gw-priority=N".
func parseAttachment(v string) (attachmentOpt, error) {
	if !strings.Contains(v, "=") {
		return attachmentOpt{target: v}, nil
	}
	var a attachmentOpt
	var ip, ip6 string
	var driverOpts []string
	for _, field := range strings.Split(v, ",") {
		key, val, ok := strings.Cut(field, "=")
		if !ok {
			return a, fmt.Errorf("invalid field %q: must be a key=value pair", field)
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "name":
			a.target = val
		case "alias":
			a.es.Aliases = append(a.es.Aliases, val)
		case "ip":
			ip = val
		case "ip6":
			ip6 = val
		case "mac-address":
			mac, err := parseMAC(val)
			if err != nil {
				return a, err
			}
			a.es.MacAddress = mac
		case "driver-opt":
			driverOpts = append(driverOpts, val)
		case "gw-priority":
			n, err := strconv.Atoi(val)
			if err != nil {
				return a, fmt.Errorf("invalid gw-priority %q: %w", val, err)
			}
			a.es.GwPriority = n
		default:
			return a, fmt.Errorf("invalid field key %s", key)
		}
	}
	if a.target == "" {
		return a, fmt.Errorf("network name not specified")
	}
	var err error
	if a.es.IPAMConfig, err = netcli.EndpointIPAM(ip, ip6); err != nil {
		return a, err
	}
	if len(driverOpts) > 0 {
		if a.es.DriverOpts, err = command.KeyValues(driverOpts, "driver-opt"); err != nil {
			return a, err
		}
	}
	return a, nil
}

func parseMAC(s string) (network.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("%s is not a valid mac address", s)
	}
	return network.HardwareAddr(mac), nil
}

// laterNetworks takes off opts, for a daemon older than API 1.44 (which
// joined a container to one network at create), every network but the
// network mode's: connectLater joins them once the container exists.
func laterNetworks(ctx context.Context, api *client.Client, opts *client.ContainerCreateOptions) (map[string]*network.EndpointSettings, error) {
	nc := opts.NetworkingConfig
	if nc == nil || len(nc.EndpointsConfig) < 2 {
		return nil, nil
	}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil, err
	}
	if !versions.LessThan(api.ClientVersion(), "1.44") {
		return nil, nil
	}
	primary := opts.HostConfig.NetworkMode.NetworkName()
	later := map[string]*network.EndpointSettings{}
	first := map[string]*network.EndpointSettings{}
	for name, es := range nc.EndpointsConfig {
		if name == primary || name == network.NetworkDefault {
			first[name] = es
		} else {
			later[name] = es
		}
	}
	opts.NetworkingConfig = &network.NetworkingConfig{EndpointsConfig: first}
	return later, nil
}

// connectLater joins the container id to the networks laterNetworks
// held back, by name.
func connectLater(ctx context.Context, api *client.Client, id string, later map[string]*network.EndpointSettings) error {
	names := make([]string, 0, len(later))
	for name := range later {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := api.NetworkConnect(ctx, name, client.NetworkConnectOptions{Container: id, EndpointConfig: later[name]}); err != nil {
			return err
		}
	}
	return nil
}

// extraHosts checks --add-host values (NAME:IP or NAME=IP, IPv6 in
// brackets or not, IP "host-gateway") and sends them as NAME:IP, the
// form every daemon reads.
func extraHosts(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q", v, v)
		}
		if ip != "host-gateway" {
			if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")); err != nil {
				return nil, fmt.Errorf("invalid argument %q for \"--add-host\" flag: invalid IP address in add-host: %q", v, ip)
			}
		}
		out = append(out, name+":"+ip)
	}
	return out, nil
}
