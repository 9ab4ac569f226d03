// Package filters holds the pieces of dockerd's list and prune filters
// that every object shares (containers, images, volumes, networks):
// until, label and name.
package filters

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// Until reads an until (or since) filter value as dockerd does: a Go
// duration before now ("10m"), Unix seconds with an optional fraction,
// an RFC 3339 time, or a date and time or a date without a zone (UTC).
func Until(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if t, ok := unixTime(v); ok {
		return t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid filter 'until=%s': want a timestamp or a duration: %w", v, errdefs.ErrInvalidArgument)
}

// unixTime reads "seconds[.fraction]".
func unixTime(v string) (time.Time, bool) {
	sec, frac, hasFrac := strings.Cut(v, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if hasFrac {
		if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, false
		}
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return time.Unix(n, ns), true
}

// Bool reads a boolean filter value (dangling=, all=) as dockerd does:
// true, 1, false or 0, in any case.
func Bool(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid filter '%s=%s': %w", key, v, errdefs.ErrInvalidArgument)
}

// HasLabel reports whether labels hold l, "key" (any value) or
// "key=value".
func HasLabel(labels map[string]string, l string) bool {
	k, v, withValue := strings.Cut(l, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == v)
}

// Labels applies the label filters: every one of want ("label=") must
// match, none of not ("label!=").
func Labels(labels map[string]string, want, not []string) bool {
	for _, l := range want {
		if !HasLabel(labels, l) {
			return false
		}
	}
	for _, l := range not {
		if HasLabel(labels, l) {
			return false
		}
	}
	return true
}

// Name is dockerd's name filter: a regular expression searched in the
// name, or a substring when the pattern does not compile.
func Name(pattern, name string) bool {
	if re, err := regexp.Compile(pattern); err == nil {
		return re.MatchString(name)
	}
	return strings.Contains(name, pattern)
}
