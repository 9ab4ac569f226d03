package image

import (
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

type historyOptions struct {
	human, quiet, noTrunc bool
	format, platform      string
}

// NewHistoryCommand is `berth history`.
func NewHistoryCommand(c *command.CLI) *cobra.Command {
	var o historyOptions
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var opts []client.ImageHistoryOption
			if o.platform != "" {
				p, err := ParsePlatform(o.platform)
				if err != nil {
					return err
				}
				opts = append(opts, client.ImageHistoryWithPlatform(p))
			}
			res, err := api.ImageHistory(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			return writeHistory(c.Out, res.Items, o, time.Now())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.human, "human", "H", true, "Print sizes and dates in human readable format")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringVar(&o.format, "format", "", "Format output using a custom template")
	f.StringVar(&o.platform, "platform", "", "Show history for the given platform")
	return cmd
}

var historyTable = format.Table{
	Default: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
	Headers: map[string]string{"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
		"CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"},
}

func writeHistory(out *command.Out, items []image.HistoryResponseItem, o historyOptions, now time.Time) error {
	f := o.format
	if o.quiet {
		f = "{{.ID}}"
	}
	rows := make([]any, 0, len(items))
	for _, it := range items {
		rows = append(rows, historyRow{it: it, human: o.human, trunc: !o.noTrunc, now: now})
	}
	return historyTable.Write(out, f, rows)
}

type historyRow struct {
	it           image.HistoryResponseItem
	human, trunc bool
	now          time.Time
}

func (r historyRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }

func (r historyRow) ID() string {
	if r.it.ID == "<missing>" || !r.trunc {
		return r.it.ID
	}
	return command.ShortID(r.it.ID)
}

func (r historyRow) CreatedSince() string {
	if !r.human {
		return r.CreatedAt()
	}
	return format.Ago(time.Unix(r.it.Created, 0), r.now)
}

func (r historyRow) CreatedAt() string {
	return time.Unix(r.it.Created, 0).Format(time.RFC3339)
}

func (r historyRow) CreatedBy() string {
	s := strings.ReplaceAll(r.it.CreatedBy, "\t", " ")
	if r.trunc {
		s = ellipsis(s, 45)
	}
	return s
}

func (r historyRow) Size() string {
	if r.human {
		return format.HumanSizeWithPrecision(float64(r.it.Size), 3)
	}
	return strconv.FormatInt(r.it.Size, 10)
}

func (r historyRow) Comment() string { return r.it.Comment }

// ellipsis shortens s to n runes, ending with "…" when it cut.
func ellipsis(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
