// Command mkimage writes the image that bench/images pulls: an OCI image
// layout directory holding one gzip layer per SPEC, tagged "bench".
//
//	mkimage DIR SPEC...
//
// A SPEC is either
//
//	/PATH[=SIZE]   the host directory PATH, stored under its own path
//	               (parents included), regular files taken in lexical
//	               walk order up to SIZE bytes (suffix K, M or G)
//	random:SIZE    SIZE incompressible bytes in 1 MiB files under
//	               /assets/N/, N being the layer's index
//
// The output is deterministic for a given host: entries are sorted, owned
// by root, and stamped with one fixed mtime; random bytes come from a
// seeded generator. On success mkimage prints one line describing the
// image (layers, compressed and uncompressed bytes, files).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mkimage DIR SPEC...  (SPEC: /PATH[=SIZE] or random:SIZE)")
		os.Exit(2)
	}
	specs := make([]spec, 0, len(os.Args)-2)
	for _, arg := range os.Args[2:] {
		s, err := parseSpec(arg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(2)
		}
		specs = append(specs, s)
	}
	sum, err := build(os.Args[1], specs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Printf("%d gzip layers, %.0f MB compressed, %.0f MB uncompressed, %d files\n",
		sum.layers, float64(sum.compressed)/1e6, float64(sum.uncompressed)/1e6, sum.files)
}

// spec is one layer's source: a host directory with a byte budget, or
// random bytes.
type spec struct {
	path   string // host directory; empty for random bytes
	budget int64  // bytes of regular files; 0 means no limit
}

func parseSpec(arg string) (spec, error) {
	if size, ok := strings.CutPrefix(arg, "random:"); ok {
		n, err := parseSize(size)
		if err != nil || n <= 0 {
			return spec{}, fmt.Errorf("spec %q: want random:SIZE with SIZE > 0", arg)
		}
		return spec{budget: n}, nil
	}
	path, size, hasSize := strings.Cut(arg, "=")
	if !strings.HasPrefix(path, "/") {
		return spec{}, fmt.Errorf("spec %q: want an absolute directory or random:SIZE", arg)
	}
	s := spec{path: path}
	if hasSize {
		n, err := parseSize(size)
		if err != nil || n <= 0 {
			return spec{}, fmt.Errorf("spec %q: bad size %q", arg, size)
		}
		s.budget = n
	}
	return s, nil
}

// parseSize reads a byte count with an optional K, M or G (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}
