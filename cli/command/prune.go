package command

import (
	"fmt"

	"github.com/berth-dev/berth/cli/format"
)

// Prune is the shape every prune verb shares: unless force, it asks with
// warning and stops at a no; then it runs prune and reports the space
// it reclaimed as docker does.
func Prune(c *CLI, force bool, warning string, prune func() (uint64, error)) error {
	if !force && !Confirm(c, warning) {
		return nil
	}
	reclaimed, err := prune()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Out, "Total reclaimed space: %s\n", format.HumanSize(float64(reclaimed)))
	return nil
}
