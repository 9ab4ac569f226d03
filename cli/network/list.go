package network

import (
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

func newListCommand(c *command.CLI) *cobra.Command {
	var quiet, noTrunc bool
	var filters []string
	var tmpl string
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.NetworkList(cmd.Context(), client.NetworkListOptions{Filters: f})
			if err != nil {
				return err
			}
			if quiet {
				tmpl = "{{.ID}}"
			}
			return writeNetworks(c.Out, res.Items, tmpl, noTrunc)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	f.StringArrayVarP(&filters, "filter", "f", nil, "Provide filter values (e.g. \"driver=bridge\")")
	f.StringVar(&tmpl, "format", "", format.TableFlagHelp)
	return cmd
}

var networkTable = format.Table{
	Default: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
	Headers: map[string]string{
		"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4", "IPv6": "IPV6",
		"Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
	},
}

// writeNetworks lists networks by name, in natural order as docker
// does ("net2" before "net10").
func writeNetworks(out *command.Out, nets []network.Summary, tmpl string, noTrunc bool) error {
	sort.Slice(nets, func(i, j int) bool { return naturalLess(nets[i].Name, nets[j].Name) })
	rows := make([]any, len(nets))
	for i, n := range nets {
		rows[i] = networkRow{n: n, noTrunc: noTrunc}
	}
	return networkTable.Write(out, tmpl, rows)
}

// networkRow is one line of `berth network ls`, with the docker CLI's
// fields.
type networkRow struct {
	n       network.Summary
	noTrunc bool
}

func (r networkRow) ID() string {
	if r.noTrunc {
		return r.n.ID
	}
	return command.ShortID(r.n.ID)
}

func (r networkRow) Name() string      { return r.n.Name }
func (r networkRow) Driver() string    { return r.n.Driver }
func (r networkRow) Scope() string     { return r.n.Scope }
func (r networkRow) IPv4() string      { return strconv.FormatBool(r.n.EnableIPv4) }
func (r networkRow) IPv6() string      { return strconv.FormatBool(r.n.EnableIPv6) }
func (r networkRow) Internal() string  { return strconv.FormatBool(r.n.Internal) }
func (r networkRow) CreatedAt() string { return r.n.Created.String() }

// Labels is "k=v,k2=v2", sorted.
func (r networkRow) Labels() string { return format.Labels(r.n.Labels) }

// Label is the value of one label.
func (r networkRow) Label(name string) string { return r.n.Labels[name] }

// MarshalJSON is --format json's object: the fields above.
func (r networkRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }

// naturalLess orders strings with their digit runs compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digits is the length of s's leading run of digits.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
