package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewImportCommand is `berth import`.
func NewImportCommand(c *command.CLI) *cobra.Command {
	var changes []string
	var message, platform string
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  command.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
				return fmt.Errorf("importing from a URL is not supported: download %s and import the file", src)
			}
			var in io.Reader = c.In
			if src != "-" {
				f, err := os.Open(src)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			} else if c.In.IsTerminal() {
				return errors.New("requested import from stdin, but stdin is a terminal")
			}
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			opts := client.ImageImportOptions{Message: message, Changes: changes}
			if platform != "" {
				p, err := ParsePlatform(platform)
				if err != nil {
					return err
				}
				opts.Platform = p
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ImageImport(cmd.Context(), client.ImageImportSource{Source: in, SourceName: "-"}, ref, opts)
			if err != nil {
				return err
			}
			defer res.Close()
			return c.ShowProgress(res, false)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	f.StringVarP(&message, "message", "m", "", "Set commit message for imported image")
	f.StringVar(&platform, "platform", "", "Set platform if server is multi-platform capable")
	return cmd
}
