package server

import (
	"net/http/httptest"
	"testing"

	"github.com/containerd/errdefs"
)

func TestTermSize(t *testing.T) {
	for _, tc := range []struct {
		query string
		h, w  uint16
		bad   bool
	}{
		{"h=24&w=80", 24, 80, false},
		{"", 0, 0, false},
		{"h=65535&w=1", 65535, 1, false},
		{"h=65536&w=80", 0, 0, true},
		{"h=-1&w=80", 0, 0, true},
		{"h=24&w=x", 0, 0, true},
	} {
		r := httptest.NewRequest("POST", "/containers/c/resize?"+tc.query, nil)
		h, w, err := termSize(r)
		if h != tc.h || w != tc.w || (err != nil) != tc.bad {
			t.Errorf("%q: got %dx%d, %v; want %dx%d, error %v", tc.query, h, w, err, tc.h, tc.w, tc.bad)
		}
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: got error %v, want an invalid-argument error", tc.query, err)
		}
	}
}
