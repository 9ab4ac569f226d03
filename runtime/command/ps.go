package command

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/runtime/container"
)

// runPs prints the container's processes: as a JSON array of pids, or as
// the host's ps(1) table (its options after the id, default -ef) filtered
// to the container's pids, as runc does.
func runPs(a *app, args []string) error {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	fs.StringVar(format, "f", "table", "table or json")
	pos, err := parse(fs, args, true)
	if err != nil {
		return err
	}
	if len(pos) < 1 {
		return fmt.Errorf("ps: expects a container id")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("ps: --format %q: must be table or json", *format)
	}
	c, err := container.Load(a.root, pos[0])
	if err != nil {
		return err
	}
	pids, err := c.Pids()
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		if pids == nil {
			pids = []int{}
		}
		return printJSON(pids, false)
	case "table":
	default:
		return fmt.Errorf("ps: --format %q: must be table or json", *format)
	}
	psArgs := pos[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps: no PID column in the output of ps %s", strings.Join(psArgs, " "))
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
			b.WriteString(l + "\n")
		}
	}
	_, err = os.Stdout.Write(b.Bytes())
	return err
}
