package command

import (
	"fmt"
	"testing"
)

func TestKeyValues(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		flag string
		want string // "" means an error
	}{
		{[]string{"type=tmpfs", "o=size=1m,uid=1"}, "opt", "map[o:size=1m,uid=1 type:tmpfs]"},
		{[]string{"novalue"}, "label", "map[novalue:]"},
		{[]string{"novalue"}, "opt", ""},
		{[]string{"=x"}, "label", ""},
	} {
		got, err := KeyValues(tc.in, tc.flag)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("KeyValues(%q, %s): got %v, want an error", tc.in, tc.flag, got)
		case tc.want != "" && (err != nil || fmt.Sprint(got) != tc.want):
			t.Errorf("KeyValues(%q, %s): got %v %v, want %s", tc.in, tc.flag, got, err, tc.want)
		}
	}
}
