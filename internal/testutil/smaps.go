package testutil

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// SmapsRollup reads /proc/PID/smaps_rollup: each "Name: N kB" line as
// Name → N KiB (Rss, Pss, Private_Dirty…), for footprint figures.
func SmapsRollup(t testing.TB, pid int) map[string]int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			m[k], _ = strconv.Atoi(f[0])
		}
	}
	return m
}
