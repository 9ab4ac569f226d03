package cgroups

import "math"

// v1 cpu.shares range over [2, 262144] (default 1024); v2 cpu.weight over
// [1, 10000] (default 100).
const (
	minShares = 2
	maxShares = 262144
	maxWeight = 10000
)

// SharesToWeight converts OCI cpu shares (cgroup v1 cpu.shares) to cgroup v2
// cpu.weight with the formula runc (1.3.2 and later) and crun (1.23 and
// later) use, which maps the defaults onto each other (1024 → 100) and the
// ends of the ranges onto the ends (2 → 1, 262144 → 10000):
//
//	l = log2(shares)
//	weight = ⌈10^((l² + 125·l) / 612 − 7/34)⌉
//
// 0 means "not set" and stays 0; values outside the v1 range are clamped.
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= minShares:
		return 1
	case shares >= maxShares:
		return maxWeight
	}
	l := math.Log2(float64(shares))
	// 7/34 = 126/612: one division keeps 1024 (l = 10) at exactly 10^2.
	w := math.Ceil(math.Pow(10, (l*l+125*l-126)/612))
	return uint64(min(max(w, 1), maxWeight))
}

// WeightToShares inverts SharesToWeight, for reporting a v2 weight as
// shares: it solves l² + 125·l − 126 − 612·log10(weight) = 0 for l and
// returns ⌊2^l⌋, the largest shares value that converts back to weight.
// 0 stays 0.
func WeightToShares(weight uint64) uint64 {
	switch {
	case weight == 0:
		return 0
	case weight <= 1:
		return minShares
	case weight >= maxWeight:
		return maxShares
	}
	c := 126 + 612*math.Log10(float64(weight))
	l := (-125 + math.Sqrt(125*125+4*c)) / 2
	s := math.Floor(math.Pow(2, l) + 1e-9) // 1e-9: 100 must give 1024, not 1023.999…
	return uint64(min(max(s, minShares), maxShares))
}

// ioWeight converts a v1 blkio weight [10, 1000] to a v2 io.weight
// [1, 10000] linearly: 1 + (w − 10)·9999/990. 0 stays 0.
func ioWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	w = min(max(w, 10), 1000)
	return 1 + (uint64(w)-10)*9999/990
}
