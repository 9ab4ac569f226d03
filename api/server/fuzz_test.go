package server

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/containerd/errdefs"
)

// FuzzDecodeAuth: any X-Registry-Auth header decodes or is refused as
// invalid, never panics.
func FuzzDecodeAuth(f *testing.F) {
	f.Add("eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAifQ==")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, h string) {
		if _, err := decodeAuth(h); err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("decodeAuth(%q): error of the wrong class: %v", h, err)
		}
	})
}

// FuzzFilters: any filters parameter parses or is refused as invalid.
func FuzzFilters(f *testing.F) {
	f.Add(`{"dangling":{"true":true}}`)
	f.Add(`{"label":["a=b"]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/images/json?filters="+url.QueryEscape(raw), nil)
		if _, err := filters(r); err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("filters(%q): error of the wrong class: %v", raw, err)
		}
	})
}

// FuzzParseTimestamp: since/until values never panic.
func FuzzParseTimestamp(f *testing.F) {
	f.Add("1700000000.123456789")
	f.Add("-1.5")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTimestamp(s); err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("parseTimestamp(%q): error of the wrong class: %v", s, err)
		}
	})
}

// FuzzImagePath: image names from request paths never panic the
// splitting, the reference checks or the not-found wording.
func FuzzImagePath(f *testing.F) {
	f.Add("127.0.0.1:5000/team/app:v1/json")
	f.Add("sha256:abcdef/history")
	f.Fuzz(func(t *testing.T, p string) {
		name, _ := splitImagePath(p)
		_ = looksLikeID(name)
		_ = noSuchImage(errdefs.ErrNotFound, name)
		_, _ = parsePlatform(name)
	})
}
