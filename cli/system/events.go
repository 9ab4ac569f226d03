package system

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// NewEventsCommand is `berth events`.
func NewEventsCommand(c *command.CLI) *cobra.Command {
	var since, until, tmpl string
	var filters []string
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Get real time events from the server",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			if tmpl == "json" {
				tmpl = "{{json .}}"
			}
			var t interface {
				Execute(io.Writer, any) error
			}
			if tmpl != "" {
				pt, err := format.Parse(tmpl)
				if err != nil {
					return command.StatusError{Status: "template parsing error: " + err.Error(), Code: 64}
				}
				t = pt
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			res := api.Events(ctx, client.EventsListOptions{Since: since, Until: until, Filters: f})
			for {
				select {
				case m := <-res.Messages:
					if t != nil {
						var b strings.Builder
						if err := t.Execute(&b, m); err != nil {
							return err
						}
						fmt.Fprintln(c.Out, b.String())
						continue
					}
					fmt.Fprintln(c.Out, EventLine(m))
				case err := <-res.Err:
					if err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&filters, "filter", "f", nil, "Filter output based on conditions provided")
	fl.StringVar(&tmpl, "format", "", "Format output using a custom template")
	fl.StringVar(&since, "since", "", "Show all events created since timestamp")
	fl.StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

// EventLine writes an event as docker events does: time, type, action,
// actor and its attributes sorted by name.
func EventLine(m events.Message) string {
	var b strings.Builder
	ts := time.Unix(0, m.TimeNano)
	if m.TimeNano == 0 {
		ts = time.Unix(m.Time, 0)
	}
	b.WriteString(ts.Format("2006-01-02T15:04:05.000000000Z07:00"))
	fmt.Fprintf(&b, " %s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(m.Actor.Attributes))
		for k := range m.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, len(keys))
		for i, k := range keys {
			attrs[i] = k + "=" + m.Actor.Attributes[k]
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(attrs, ", "))
	}
	return b.String()
}
