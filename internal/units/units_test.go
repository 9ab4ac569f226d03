package units

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "Less than a second"}, {time.Second, "1 second"}, {3 * time.Second, "3 seconds"},
		{59 * time.Second, "59 seconds"}, {60 * time.Second, "About a minute"}, {119 * time.Second, "About a minute"},
		{3 * time.Minute, "3 minutes"}, {59 * time.Minute, "59 minutes"}, {60 * time.Minute, "About an hour"},
		{89 * time.Minute, "About an hour"}, {3 * time.Hour, "3 hours"}, {47 * time.Hour, "47 hours"},
		{3 * 24 * time.Hour, "3 days"}, {15 * 24 * time.Hour, "2 weeks"}, {90 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	} {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v): got %q, want %q", tc.d, got, tc.want)
		}
	}
}
