package container

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

type listOptions struct {
	all, quiet, size, noTrunc, latest bool
	last                              int
	filters                           []string
	format                            string
}

// NewListCommand is `berth ps`.
func NewListCommand(c *command.CLI) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(o.filters)
			if err != nil {
				return err
			}
			opts := client.ContainerListOptions{All: o.all, Filters: f, Size: o.size, Limit: o.last}
			if o.latest {
				opts.Limit = 1
			}
			if opts.Limit != 0 {
				opts.All = true
			}
			if !o.size && strings.Contains(o.format, ".Size") {
				opts.Size = true
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerList(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return writeContainers(c.Out, res.Items, o, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
	fl.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
	fl.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&o.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	fl.IntVarP(&o.last, "last", "n", 0, "Show n last created containers (includes all states)")
	fl.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided")
	fl.StringVar(&o.format, "format", "", "Format output using a custom template")
	return cmd
}

var psTable = format.Table{
	Default: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
	Headers: map[string]string{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT", "RunningFor": "CREATED",
		"Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
		"State": "STATE", "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES", "Platform": "PLATFORM",
	},
}

func writeContainers(out *command.Out, items []container.Summary, o listOptions, now time.Time) error {
	t := psTable
	if o.size {
		t.Default += "\t{{.Size}}"
	}
	f := o.format
	if o.quiet {
		f = "{{.ID}}"
	}
	rows := make([]any, 0, len(items))
	for _, s := range items {
		rows = append(rows, psRow{s: s, trunc: !o.noTrunc, now: now})
	}
	return t.Write(out, f, rows)
}

// psRow is one line of `berth ps`.
type psRow struct {
	s     container.Summary
	trunc bool
	now   time.Time
}

func (r psRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }

func (r psRow) ID() string {
	if r.trunc {
		return command.ShortID(r.s.ID)
	}
	return r.s.ID
}

func (r psRow) Image() string {
	img := r.s.Image
	if img == "" {
		return "<no image>"
	}
	if r.trunc && (strings.HasPrefix(img, "sha256:") || strings.HasPrefix(r.s.ImageID, img)) {
		return command.ShortID(img)
	}
	return img
}

func (r psRow) Command() string {
	cmd := r.s.Command
	if r.trunc {
		cmd = ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

func (r psRow) CreatedAt() string  { return time.Unix(r.s.Created, 0).String() }
func (r psRow) RunningFor() string { return format.Ago(time.Unix(r.s.Created, 0), r.now) }
func (r psRow) Status() string     { return r.s.Status }
func (r psRow) State() string      { return string(r.s.State) }
func (r psRow) Ports() string      { return FormatPorts(r.s.Ports) }

// Names are the container's names without their leading slash, and
// without the names it has as another container's link.
func (r psRow) Names() string {
	var names []string
	for _, n := range r.s.Names {
		n = strings.TrimPrefix(n, "/")
		if r.trunc && strings.Contains(n, "/") {
			continue
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

func (r psRow) Size() string {
	if r.s.SizeRw == 0 && r.s.SizeRootFs == 0 {
		return "0B"
	}
	return fmt.Sprintf("%s (virtual %s)", format.HumanSizeWithPrecision(float64(r.s.SizeRw), 3),
		format.HumanSizeWithPrecision(float64(r.s.SizeRootFs), 3))
}

func (r psRow) Labels() string { return format.Labels(r.s.Labels) }

// Label is one label's value: {{.Label "com.example.x"}}.
func (r psRow) Label(name string) string { return r.s.Labels[name] }

func (r psRow) Mounts() string {
	var ms []string
	for _, m := range r.s.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if r.trunc {
			name = ellipsis(name, 15)
		}
		ms = append(ms, name)
	}
	return strings.Join(ms, ",")
}

func (r psRow) Networks() string {
	if r.s.NetworkSettings == nil {
		return ""
	}
	var ns []string
	for n := range r.s.NetworkSettings.Networks {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ",")
}

func (r psRow) LocalVolumes() string {
	n := 0
	for _, m := range r.s.Mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// FormatPorts writes port mappings as docker ps does:
// "0.0.0.0:8080->80/tcp, 443/tcp".
func FormatPorts(ports []container.PortSummary) string {
	sorted := append([]container.PortSummary(nil), ports...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.IP.String() < b.IP.String()
	})
	var out []string
	for _, p := range sorted {
		if p.PublicPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			continue
		}
		ip := "0.0.0.0"
		if p.IP.IsValid() {
			ip = p.IP.String()
			if p.IP.Is6() {
				ip = "[" + ip + "]"
			}
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.PublicPort, p.PrivatePort, p.Type))
	}
	return strings.Join(out, ", ")
}

// ellipsis shortens s to n runes, ending with "…" when it cut.
func ellipsis(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
