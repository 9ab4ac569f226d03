package command

import (
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/berth-dev/berth/runtime/container"
)

type listEntry struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func runList(a *app, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	fs.StringVar(format, "f", "table", "table or json")
	quiet := fs.Bool("quiet", false, "print only ids")
	fs.BoolVar(quiet, "q", false, "print only ids")
	if _, err := parse(fs, args, false); err != nil {
		return err
	}
	cs, err := container.List(a.root)
	if err != nil {
		return err
	}
	entries := make([]listEntry, 0, len(cs))
	for _, c := range cs {
		st := c.State()
		entries = append(entries, listEntry{
			OCIVersion: st.Version, ID: c.ID, Pid: st.Pid, Status: string(st.Status), Bundle: c.Bundle,
			Rootfs: c.Rootfs, Created: c.Created, Annotations: st.Annotations, Owner: c.Owner,
		})
	}
	if *quiet {
		for _, e := range entries {
			fmt.Println(e.ID)
		}
		return nil
	}
	switch *format {
	case "json":
		return printJSON(entries, false)
	case "table":
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, e := range entries {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
		}
		return w.Flush()
	default:
		return fmt.Errorf("list: --format %q: must be table or json", *format)
	}
}
