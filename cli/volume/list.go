package volume

import (
	"sort"
	"strconv"

	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

func newListCommand(c *command.CLI) *cobra.Command {
	var quiet bool
	var filters []string
	var tmpl string
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
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
			res, err := api.VolumeList(cmd.Context(), client.VolumeListOptions{Filters: f})
			if err != nil {
				return err
			}
			if quiet {
				tmpl = "{{.Name}}"
			}
			return writeVolumes(c.Out, res.Items, tmpl)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	f.StringArrayVarP(&filters, "filter", "f", nil, "Provide filter values (e.g. \"dangling=true\")")
	f.StringVar(&tmpl, "format", "", format.TableFlagHelp)
	return cmd
}

var volumeTable = format.Table{
	Default: "table {{.Driver}}\t{{.Name}}",
	Headers: map[string]string{
		"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
		"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "CreatedAt": "CREATED",
	},
}

func writeVolumes(out *command.Out, vols []volume.Volume, tmpl string) error {
	sort.Slice(vols, func(i, j int) bool { return vols[i].Name < vols[j].Name })
	rows := make([]any, len(vols))
	for i, v := range vols {
		rows[i] = volumeRow{v}
	}
	return volumeTable.Write(out, tmpl, rows)
}

// volumeRow is one line of `berth volume ls`, with the docker CLI's
// fields.
type volumeRow struct{ v volume.Volume }

func (r volumeRow) Name() string       { return r.v.Name }
func (r volumeRow) Driver() string     { return r.v.Driver }
func (r volumeRow) Scope() string      { return r.v.Scope }
func (r volumeRow) Mountpoint() string { return r.v.Mountpoint }
func (r volumeRow) CreatedAt() string  { return r.v.CreatedAt }

// Labels is "k=v,k2=v2", sorted.
func (r volumeRow) Labels() string { return format.Labels(r.v.Labels) }

// Label is the value of one label.
func (r volumeRow) Label(name string) string { return r.v.Labels[name] }

// Links is the number of containers using the volume, "N/A" when the
// daemon did not count.
func (r volumeRow) Links() string {
	if r.v.UsageData == nil {
		return "N/A"
	}
	return strconv.FormatInt(r.v.UsageData.RefCount, 10)
}

// Size is the volume's size, "N/A" when the daemon did not measure.
func (r volumeRow) Size() string {
	if r.v.UsageData == nil || r.v.UsageData.Size < 0 {
		return "N/A"
	}
	return format.HumanSizeWithPrecision(float64(r.v.UsageData.Size), 3)
}

// MarshalJSON is --format json's object: the fields above.
func (r volumeRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }
