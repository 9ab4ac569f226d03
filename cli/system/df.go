package system

import (
	"fmt"
	"strconv"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// NewDiskUsageCommand is `berth system df`.
func NewDiskUsageCommand(c *command.CLI) *cobra.Command {
	var tmpl string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show berth disk usage",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			du, err := api.DiskUsage(cmd.Context(), client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true, Verbose: verbose})
			if err != nil {
				return err
			}
			rows := []any{
				dfRow{"Images", du.Images.TotalCount, du.Images.ActiveCount, du.Images.TotalSize, du.Images.Reclaimable},
				dfRow{"Containers", du.Containers.TotalCount, du.Containers.ActiveCount, du.Containers.TotalSize, du.Containers.Reclaimable},
				dfRow{"Local Volumes", du.Volumes.TotalCount, du.Volumes.ActiveCount, du.Volumes.TotalSize, du.Volumes.Reclaimable},
				dfRow{"Build Cache", du.BuildCache.TotalCount, du.BuildCache.ActiveCount, du.BuildCache.TotalSize, du.BuildCache.Reclaimable},
			}
			return dfTable.Write(c.Out, tmpl, rows)
		},
	}
	cmd.Flags().StringVar(&tmpl, "format", "", "Format output using a custom template")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "Show detailed information on space usage")
	return cmd
}

var dfTable = format.Table{
	Default: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
	Headers: map[string]string{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"},
}

type dfRow struct {
	kind                     string
	total, active, size, rec int64
}

func (r dfRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }
func (r dfRow) Type() string                 { return r.kind }
func (r dfRow) TotalCount() string           { return strconv.FormatInt(r.total, 10) }
func (r dfRow) Active() string               { return strconv.FormatInt(r.active, 10) }
func (r dfRow) Size() string                 { return format.HumanSize(float64(r.size)) }
func (r dfRow) Reclaimable() string {
	s := format.HumanSize(float64(r.rec))
	if r.size > 0 && r.rec > 0 {
		s += fmt.Sprintf(" (%d%%)", int(float64(r.rec)/float64(r.size)*100))
	}
	return s
}
