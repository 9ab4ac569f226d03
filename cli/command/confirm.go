package command

import (
	"bufio"
	"fmt"
	"strings"
)

// Confirm asks a yes/no question on the CLI's streams, as docker's
// prune commands do; anything but "y" or "yes" is no.
func Confirm(c *CLI, warning string) bool {
	fmt.Fprintf(c.Out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(c.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
