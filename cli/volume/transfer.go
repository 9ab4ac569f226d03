package volume

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// newExportCommand is `berth volume export`: the volume as a tar archive
// whose last entry, MANIFEST.json, holds the SHA-256 of every file and
// of the stream.
func newExportCommand(c *command.CLI) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] VOLUME",
		Short: "Export a volume's content as a tar archive with a checksum manifest (berth)",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && c.Out.IsTerminal() {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			resp, err := c.Extension(cmd.Context(), http.MethodGet, "/volumes/"+url.PathEscape(args[0])+"/export", nil, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if output == "" {
				_, err = io.Copy(c.Out, resp.Body)
				return err
			}
			return command.WriteFile(output, resp.Body)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// newImportCommand is `berth volume import`: the volume's content is
// replaced by an export's, once berthd has verified every checksum.
func newImportCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import VOLUME [FILE|-]",
		Short: "Replace a volume's content with an exported archive, verified first (berth)",
		Args:  command.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = c.In
			if len(args) == 2 && args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			resp, err := c.Extension(cmd.Context(), http.MethodPut, "/volumes/"+url.PathEscape(args[0])+"/import", nil, in)
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		},
	}
	return cmd
}
