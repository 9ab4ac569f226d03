package cgroups

import "testing"

func TestSharesToWeight(t *testing.T) {
	// Values of ⌈10^((l² + 125·l)/612 − 7/34)⌉, l = log2(shares), computed
	// independently; the ends and the defaults map onto each other.
	tests := []struct{ shares, weight uint64 }{
		{0, 0}, {1, 1}, {2, 1}, {3, 2}, {10, 4}, {100, 17}, {512, 59}, {1024, 100},
		{2048, 174}, {4096, 303}, {65536, 3023}, {262143, 10000}, {262144, 10000}, {1 << 20, 10000},
	}
	for _, tt := range tests {
		if got := SharesToWeight(tt.shares); got != tt.weight {
			t.Errorf("SharesToWeight(%d): got %d, want %d", tt.shares, got, tt.weight)
		}
	}
}

func TestWeightToShares(t *testing.T) {
	tests := []struct{ weight, shares uint64 }{
		{0, 0}, {1, 2}, {100, 1024}, {10000, 262144}, {20000, 262144},
	}
	for _, tt := range tests {
		if got := WeightToShares(tt.weight); got != tt.shares {
			t.Errorf("WeightToShares(%d): got %d, want %d", tt.weight, got, tt.shares)
		}
	}
	// Round trip: every weight converted to shares converts back to itself.
	for w := uint64(1); w <= maxWeight; w++ {
		if got := SharesToWeight(WeightToShares(w)); got != w {
			t.Errorf("SharesToWeight(WeightToShares(%d)): got %d, want %d", w, got, w)
		}
	}
}

func TestSwapV2(t *testing.T) {
	tests := []struct {
		swap, limit, want int64
		err               bool
	}{
		{swap: 0, limit: 0, want: 0},
		{swap: 0, limit: -1, want: -1},     // unlimited memory, unset swap: both unlimited
		{swap: -1, limit: 100, want: -1},   // unlimited swap
		{swap: 0, limit: 100, want: 0},     // swap not set
		{swap: 300, limit: 100, want: 200}, // memory+swap − memory
		{swap: 100, limit: 100, want: 0},   // no swap
		{swap: 300, limit: -1, want: 300},  // unlimited memory: taken as is
		{swap: 50, limit: 100, err: true},  // below the memory limit
		{swap: 300, limit: 0, err: true},   // no memory limit to subtract
		{swap: 300, limit: -5, err: true},  // nonsense
	}
	for _, tt := range tests {
		got, err := swapV2(tt.swap, tt.limit)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("swapV2(%d, %d): got %d, %v; want %d, error %v", tt.swap, tt.limit, got, err, tt.want, tt.err)
		}
	}
}

func TestIOWeight(t *testing.T) {
	tests := []struct {
		blkio uint16
		io    uint64
	}{{0, 0}, {10, 1}, {500, 4950}, {1000, 10000}, {1, 1}, {2000, 10000}}
	for _, tt := range tests {
		if got := ioWeight(tt.blkio); got != tt.io {
			t.Errorf("ioWeight(%d): got %d, want %d", tt.blkio, got, tt.io)
		}
	}
}
