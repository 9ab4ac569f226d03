package command

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPrune(t *testing.T) {
	const ask = "W\nAre you sure you want to continue? [y/N] "
	for _, tc := range []struct {
		name   string
		force  bool
		answer string
		err    error
		out    string
		ran    bool
	}{
		{"forced", true, "", nil, "Total reclaimed space: 2kB\n", true},
		{"yes", false, "y\n", nil, ask + "Total reclaimed space: 2kB\n", true},
		{"no", false, "n\n", nil, ask, false},
		{"failed", true, "", errors.New("boom"), "", true},
	} {
		var out bytes.Buffer
		c := New(strings.NewReader(tc.answer), &out, &out, "", "")
		ran := false
		err := Prune(c, tc.force, "W", func() (uint64, error) {
			ran = true
			return 2000, tc.err
		})
		if !errors.Is(err, tc.err) || out.String() != tc.out || ran != tc.ran {
			t.Errorf("%s: got error %v, output %q, ran %v; want %v, %q, %v", tc.name, err, out.String(), ran, tc.err, tc.out, tc.ran)
		}
	}
}
