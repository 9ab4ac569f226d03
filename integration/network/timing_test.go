package network_test

import (
	"slices"
	"testing"
	"time"
)

// TestRunTiming reports what a network costs docker run --rm: the median
// of runs with --network none, on the default bridge and on a user
// network, interleaved. Reported, never asserted (the goal is at most
// 10 ms more than none). Not parallel: the package's parallel tests wait
// until it is done, so it runs alone.
func TestRunTiming(t *testing.T) {
	d := newDaemon(t)
	d.OK("network", "create", "user")
	const runs = 9
	modes := []string{"none", "bridge", "user"}
	took := map[string][]time.Duration{}
	d.OK("run", "--rm", "--network", "none", d.Image, "true") // warm up
	for range runs {
		for _, m := range modes {
			start := time.Now()
			d.OK("run", "--rm", "--network", m, d.Image, "true")
			took[m] = append(took[m], time.Since(start))
		}
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	base := median(took["none"])
	for _, m := range modes {
		t.Logf("docker run --rm --network %-6s median %6.1f ms (%+.1f ms against none) over %d runs",
			m, ms(median(took[m])), ms(median(took[m])-base), runs)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
