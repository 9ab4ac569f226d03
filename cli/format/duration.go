package format

import (
	"time"

	"github.com/berth-dev/berth/internal/units"
)

// Ago writes how long ago t was, relative to now: "3 minutes ago". A
// zero time is "N/A".
func Ago(t, now time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "N/A"
	}
	return units.HumanDuration(now.Sub(t)) + " ago"
}
