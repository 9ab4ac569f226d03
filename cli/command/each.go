package command

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSkipped, returned by Each's fn, passes over a name silently: no
// line, no error (network rm --force of a network not there).
var ErrSkipped = errors.New("skipped")

// Each runs fn for every name given, printing the name on success, and
// reports all failures together, one a line, as docker stop, kill, rm,
// network rm, volume rm and friends do.
func Each(c *CLI, names []string, fn func(name string) error) error {
	var errs []string
	for _, name := range names {
		switch err := fn(name); {
		case err == nil:
			fmt.Fprintln(c.Out, name)
		case !errors.Is(err, ErrSkipped):
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}
