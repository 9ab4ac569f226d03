package command

import (
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// ShortID is the 12-character form of an ID, without its algorithm:
// "sha256:4a5b…" becomes "4a5b6c7d8e9f".
func ShortID(id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ParseFilters reads --filter values, each "name=value".
func ParseFilters(args []string) (client.Filters, error) {
	f := client.Filters{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		f.Add(name, strings.TrimSpace(value))
	}
	return f, nil
}
