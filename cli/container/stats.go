package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// NewStatsCommand is `berth stats`.
func NewStatsCommand(c *command.CLI) *cobra.Command {
	var all, noStream, noTrunc bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			names := args
			if len(names) == 0 {
				res, err := api.ContainerList(ctx, client.ContainerListOptions{All: all})
				if err != nil {
					return err
				}
				for _, s := range res.Items {
					names = append(names, s.ID)
				}
			}
			if noStream {
				var rows []any
				var errs []string
				for _, n := range names {
					r, err := sample(ctx, api, n)
					if err != nil {
						errs = append(errs, err.Error())
						continue
					}
					r.trunc = !noTrunc
					rows = append(rows, r)
				}
				if err := statsTable.Write(c.Out, tmpl, rows); err != nil {
					return err
				}
				if len(errs) > 0 {
					return errors.New(strings.Join(errs, "\n"))
				}
				return nil
			}
			return streamStats(ctx, c, api, names, tmpl, !noTrunc)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	f.BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	f.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	f.StringVar(&tmpl, "format", "", "Format output using a custom template")
	return cmd
}

var statsTable = format.Table{
	Default: "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
	Headers: map[string]string{"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
		"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"},
}

// sample takes one sample with the previous one, so the CPU share can
// be computed.
func sample(ctx context.Context, api *client.Client, name string) (statsRow, error) {
	res, err := api.ContainerStats(ctx, name, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: true})
	if err != nil {
		return statsRow{}, err
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return statsRow{}, fmt.Errorf("decode stats of %s: %w", name, err)
	}
	return statsRow{container: name, s: s}, nil
}

// streamStats redraws the table at each sample of every container.
func streamStats(ctx context.Context, c *command.CLI, api *client.Client, names []string, tmpl string, trunc bool) error {
	var mu sync.Mutex
	latest := map[string]statsRow{}
	updates := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for _, n := range names {
		res, err := api.ContainerStats(ctx, n, client.ContainerStatsOptions{Stream: true})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer res.Body.Close()
			dec := json.NewDecoder(res.Body)
			for {
				var s container.StatsResponse
				if err := dec.Decode(&s); err != nil {
					return
				}
				mu.Lock()
				latest[n] = statsRow{container: n, s: s, trunc: trunc}
				mu.Unlock()
				select {
				case updates <- struct{}{}:
				default:
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			return nil
		case <-updates:
			mu.Lock()
			var rows []any
			for _, n := range names {
				if r, ok := latest[n]; ok {
					rows = append(rows, r)
				}
			}
			mu.Unlock()
			if c.Out.IsTerminal() {
				io.WriteString(c.Out, "\x1b[2J\x1b[H")
			}
			if err := statsTable.Write(c.Out, tmpl, rows); err != nil {
				return err
			}
		}
	}
}

// statsRow is one line of `berth stats`.
type statsRow struct {
	container string
	s         container.StatsResponse
	trunc     bool
}

func (r statsRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }

func (r statsRow) ID() string {
	if r.trunc {
		return command.ShortID(r.s.ID)
	}
	return r.s.ID
}
func (r statsRow) Container() string { return r.container }
func (r statsRow) Name() string      { return strings.TrimPrefix(r.s.Name, "/") }

// CPUPerc is the CPU used between the two samples, as a share of one
// CPU times the online CPUs (docker's formula).
func (r statsRow) CPUPerc() string {
	cpu := float64(r.s.CPUStats.CPUUsage.TotalUsage) - float64(r.s.PreCPUStats.CPUUsage.TotalUsage)
	system := float64(r.s.CPUStats.SystemUsage) - float64(r.s.PreCPUStats.SystemUsage)
	online := float64(r.s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = float64(len(r.s.CPUStats.CPUUsage.PercpuUsage))
	}
	pct := 0.0
	if system > 0 && cpu > 0 {
		pct = cpu / system * online * 100
	}
	return fmt.Sprintf("%.2f%%", pct)
}

// memUsed is the usage less the page cache, as docker counts it.
func (r statsRow) memUsed() float64 {
	used := float64(r.s.MemoryStats.Usage)
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := r.s.MemoryStats.Stats[k]; ok && float64(v) < used {
			return used - float64(v)
		}
	}
	return used
}

func (r statsRow) MemUsage() string {
	return format.BytesSize(r.memUsed()) + " / " + format.BytesSize(float64(r.s.MemoryStats.Limit))
}

func (r statsRow) MemPerc() string {
	if r.s.MemoryStats.Limit == 0 {
		return "0.00%"
	}
	return fmt.Sprintf("%.2f%%", r.memUsed()/float64(r.s.MemoryStats.Limit)*100)
}

func (r statsRow) NetIO() string {
	var rx, tx float64
	for _, n := range r.s.Networks {
		rx += float64(n.RxBytes)
		tx += float64(n.TxBytes)
	}
	return format.HumanSizeWithPrecision(rx, 3) + " / " + format.HumanSizeWithPrecision(tx, 3)
}

func (r statsRow) BlockIO() string {
	var read, write float64
	for _, e := range r.s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			read += float64(e.Value)
		case "write":
			write += float64(e.Value)
		}
	}
	return format.HumanSizeWithPrecision(read, 3) + " / " + format.HumanSizeWithPrecision(write, 3)
}

func (r statsRow) PIDs() string { return fmt.Sprint(r.s.PidsStats.Current) }
