package format

import (
	"sort"
	"strings"
)

// Labels is a listing's LABELS column: "k=v,k2=v2", sorted by key.
func Labels(labels map[string]string) string {
	kv := make([]string, 0, len(labels))
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
