package command

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEach(t *testing.T) {
	for _, tc := range []struct {
		name    string
		results map[string]error
		out     string
		err     string
	}{
		{"all done", map[string]error{"a": nil, "b": nil}, "a\nb\n", ""},
		{"failures together", map[string]error{"a": errors.New("no a"), "b": nil, "c": errors.New("no c")}, "b\n", "no a\nno c"},
		{"skipped", map[string]error{"a": ErrSkipped, "b": nil}, "b\n", ""},
	} {
		var out bytes.Buffer
		c := New(strings.NewReader(""), &out, &out, "", "")
		names := []string{"a", "b", "c"}[:len(tc.results)]
		err := Each(c, names, func(name string) error { return tc.results[name] })
		got := ""
		if err != nil {
			got = err.Error()
		}
		if out.String() != tc.out || got != tc.err {
			t.Errorf("%s: got output %q and error %q, want %q and %q", tc.name, out.String(), got, tc.out, tc.err)
		}
	}
}
