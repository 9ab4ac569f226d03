package system

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/api/types"
	"github.com/berth-dev/berth/cli/command"
)

// NewFsckCommand is `berth system fsck`, berth's own: it re-hashes every
// blob in the image store and checks that every image's blobs and layer
// snapshots are there and that nothing lies about unreferenced. With
// --repair it removes corrupt blobs (a pull fetches them again) and what
// nothing references, then checks again. It exits 1 while problems
// remain.
func NewFsckCommand(c *command.CLI) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "fsck [OPTIONS]",
		Short: "Check the image store, and repair it",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := fsck(cmd.Context(), c, repair)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.Out, "checked %d blobs and %d snapshots\n", rep.Blobs, rep.Snapshots)
			for _, p := range rep.Problems {
				fmt.Fprintf(c.Out, "problem: %s\n", p)
			}
			for _, p := range rep.Repaired {
				fmt.Fprintf(c.Out, "repaired: %s\n", p)
			}
			if repair && len(rep.Problems) > 0 {
				if rep, err = fsck(cmd.Context(), c, false); err != nil {
					return err
				}
				for _, p := range rep.Problems {
					fmt.Fprintf(c.Out, "remaining: %s\n", p)
				}
			}
			if n := len(rep.Problems); n > 0 {
				return command.StatusError{Status: fmt.Sprintf("fsck: %d problems remain", n), Code: 1}
			}
			fmt.Fprintln(c.Out, "the store is consistent")
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "Remove corrupt blobs and unreferenced data")
	return cmd
}

func fsck(ctx context.Context, c *command.CLI, repair bool) (types.FsckResponse, error) {
	var rep types.FsckResponse
	q := url.Values{}
	if repair {
		q.Set("repair", "1")
	}
	resp, err := c.Extension(ctx, http.MethodPost, "/system/fsck", q, nil)
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return rep, fmt.Errorf("fsck: read the daemon's answer: %w", err)
	}
	return rep, nil
}
