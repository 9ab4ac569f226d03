package seccomp

import (
	"cmp"
	"math"
	"slices"
)

// entry is one syscall number named by one rule.
type entry struct {
	nr    uint32
	rule  int32 // index into the rules, which is also its precedence
	arg32 bool
}

// collect gathers, into buf's memory, the syscall numbers the rules name on
// each ABI of g, skipping names an ABI lacks, sorted by number, then
// precedence.
func collect(g archGroup, rules []rule, buf []entry) []entry {
	es := buf[:0]
	for _, a := range g.abis {
		es = appendSorted(es, a, rules)
	}
	// The ABIs sharing an arch (x86_64, x32) use disjoint number ranges,
	// in family order, so this only guards.
	if !slices.IsSortedFunc(es, byNr) {
		slices.SortStableFunc(es, byNr)
	}
	return es
}

func byNr(a, b entry) int { return cmp.Compare(a.nr, b.nr) }

// appendSorted appends the entries of ABI a, sorted by number, then rule.
// An ABI's numbers span a few hundred values, so a counting sort places
// each entry straight into es: no comparisons and no scratch copy, which
// matters in a fresh process where every new heap page is a page fault.
func appendSorted(es []entry, a abi, rules []rule) []entry {
	nrOf := func(row int32) int32 {
		if row < 0 {
			return -1
		}
		return syscallTable[row].nrs[a.col]
	}
	lo, hi, n := uint32(math.MaxUint32), uint32(0), 0
	for _, r := range rules {
		for _, row := range r.rows {
			if nr := nrOf(row); nr >= 0 {
				lo, hi, n = min(lo, uint32(nr)), max(hi, uint32(nr)), n+1
			}
		}
	}
	if n == 0 {
		return es
	}
	base := len(es)
	es = slices.Grow(es, n)[:base+n]
	starts := make([]int32, hi-lo+1)
	for _, r := range rules {
		for _, row := range r.rows {
			if nr := nrOf(row); nr >= 0 {
				starts[uint32(nr)-lo]++
			}
		}
	}
	var sum int32
	for i, c := range starts {
		starts[i], sum = sum, sum+c
	}
	for ri, r := range rules {
		for _, row := range r.rows {
			if nr := nrOf(row); nr >= 0 {
				k := uint32(nr) - lo
				es[base+int(starts[k])] = entry{nr: uint32(nr), rule: int32(ri), arg32: a.arg32}
				starts[k]++
			}
		}
	}
	return es
}
