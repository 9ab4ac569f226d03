package filters

import (
	"errors"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestUntil(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.5", time.Unix(1700000000, 500000000)},
		{"1700000000.000000001", time.Unix(1700000000, 1)},
		{"2026-11-28T10:00:00Z", time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)},
		{"2026-11-28T10:00:00", time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)},
		{"2026-11-28", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := Until(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Until(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "17.x", "1700000000.", "1700000000.1234567890", "-"} {
		if _, err := Until(bad, now); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Until(%q): got %v, want an invalid-argument error", bad, err)
		}
	}
}

func TestLabelsAndName(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": ""}
	for _, tc := range []struct {
		want, not []string
		ok        bool
	}{
		{nil, nil, true}, {[]string{"app"}, nil, true}, {[]string{"app=web"}, nil, true},
		{[]string{"app=db"}, nil, false}, {[]string{"tier="}, nil, true}, {nil, []string{"app"}, false},
		{nil, []string{"app=db"}, true}, {[]string{"app", "nope"}, nil, false},
	} {
		if got := Labels(labels, tc.want, tc.not); got != tc.ok {
			t.Errorf("Labels(%v, %v): got %v, want %v", tc.want, tc.not, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		pattern, name string
		ok            bool
	}{
		{"web", "my-web-1", true}, {"^web$", "web", true}, {"^web$", "webs", false}, {"[", "a[b", true}, {"[", "ab", false},
	} {
		if got := Name(tc.pattern, tc.name); got != tc.ok {
			t.Errorf("Name(%q, %q): got %v, want %v", tc.pattern, tc.name, got, tc.ok)
		}
	}
}

func TestBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "0": false, "False": false} {
		if got, err := Bool("dangling", in); err != nil || got != want {
			t.Errorf("Bool(%q): got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yes", "t", "2"} {
		if _, err := Bool("dangling", bad); !errors.Is(err, errdefs.ErrInvalidArgument) || err.Error() != "invalid filter 'dangling="+bad+"': invalid argument" {
			t.Errorf("Bool(%q): got %v, want an invalid-argument error naming the filter", bad, err)
		}
	}
}
