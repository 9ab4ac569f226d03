package format

import (
	"fmt"
	"strconv"
	"strings"
)

var (
	decimalUnits = []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	binaryUnits  = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
)

// scale divides size by base until it is below base or the units run
// out, returning the scaled size and its unit.
func scale(size, base float64, units []string) (float64, string) {
	i := 0
	for size >= base && i < len(units)-1 {
		size /= base
		i++
	}
	return size, units[i]
}

// HumanSize writes a byte count in decimal units with four significant
// digits: 1234567 is "1.235MB", 0 is "0B".
func HumanSize(size float64) string { return HumanSizeWithPrecision(size, 4) }

// HumanSizeWithPrecision is HumanSize with the given number of
// significant digits (docker images and ps use 3: "1.23MB").
func HumanSizeWithPrecision(size float64, digits int) string {
	s, unit := scale(size, 1000, decimalUnits)
	return fmt.Sprintf("%.*g%s", digits, s, unit)
}

// BytesSize writes a byte count in binary units with four significant
// digits: 1<<20 is "1MiB", as docker info prints memory.
func BytesSize(size float64) string {
	s, unit := scale(size, 1024, binaryUnits)
	return fmt.Sprintf("%.4g%s", s, unit)
}

// ParseBytes reads a size as docker's --memory and --shm-size take it:
// a number with an optional k, m, g, t or p suffix (binary multiples,
// any case, optionally followed by "b" or "ib"): "512m", "1.5g", "100".
func ParseBytes(s string) (int64, error) {
	in := strings.TrimSpace(s)
	lower := strings.ToLower(in)
	lower = strings.TrimSuffix(lower, "b")
	lower = strings.TrimSuffix(lower, "i")
	mult := float64(1)
	if n := len(lower); n > 0 {
		switch lower[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		case 'p':
			mult = 1 << 50
		}
		if mult != 1 {
			lower = strings.TrimSpace(lower[:n-1])
		}
	}
	if lower == "" || strings.Trim(lower, "0123456789.") != "" {
		return 0, fmt.Errorf("invalid size: '%s'", s)
	}
	f, err := strconv.ParseFloat(lower, 64)
	if err != nil || f*mult > 1<<62 {
		return 0, fmt.Errorf("invalid size: '%s'", s)
	}
	return int64(f * mult), nil
}
