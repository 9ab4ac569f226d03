package command

import (
	"fmt"
	"strings"
)

// KeyValues reads KEY=VALUE flags such as --opt and --label (a label
// may go without a value: "--label flag" is flag="").
func KeyValues(list []string, flag string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" || !ok && flag != "label" {
			return nil, fmt.Errorf("invalid argument %q for \"--%s\" flag: expected KEY=VALUE", kv, flag)
		}
		out[k] = v
	}
	return out, nil
}
