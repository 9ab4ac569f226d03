package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// The API versions berthd answers. MaxAPIVersion is recent enough that
// current Docker SDKs (which pin 1.44 or later) are not refused; the
// docker CLI 28 negotiates down to its 1.50.
const (
	MinAPIVersion = "1.24"
	MaxAPIVersion = "1.51"
)

type versionKey struct{}

// APIVersion returns the API version of a request: the one its path
// named, else MaxAPIVersion.
func APIVersion(ctx context.Context) string {
	if v, ok := ctx.Value(versionKey{}).(string); ok {
		return v
	}
	return MaxAPIVersion
}

// versionBefore reports whether the request's API version is below v.
func versionBefore(ctx context.Context, v string) bool {
	return compareVersions(APIVersion(ctx), v) < 0
}

// splitVersion takes the "/v1.NN" prefix off a path: the version (empty
// when there is none) and the rest. A prefix that is not digits and dots
// is no version: the path is left for the router, which does not know it.
func splitVersion(path string) (version, rest string) {
	after, ok := strings.CutPrefix(path, "/v")
	if !ok {
		return "", path
	}
	v, tail, _ := strings.Cut(after, "/")
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		return "", path
	}
	return v, "/" + tail
}

// checkVersion refuses versions outside [MinAPIVersion, MaxAPIVersion]
// with dockerd's messages.
func checkVersion(v string) error {
	if compareVersions(v, MinAPIVersion) < 0 {
		return errorf(errdefs.ErrInvalidArgument, "client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion)
	}
	if compareVersions(v, MaxAPIVersion) > 0 {
		return errorf(errdefs.ErrInvalidArgument, "client version %s is too new. Maximum supported API version is %s", v, MaxAPIVersion)
	}
	return nil
}

// versioned strips the version prefix of r's path, checks the version and
// returns the request to route, carrying the version in its context.
func versioned(r *http.Request) (*http.Request, error) {
	v, rest := splitVersion(r.URL.Path)
	if v == "" {
		return r.WithContext(context.WithValue(r.Context(), versionKey{}, MaxAPIVersion)), nil
	}
	if err := checkVersion(v); err != nil {
		return nil, err
	}
	r2 := r.WithContext(context.WithValue(r.Context(), versionKey{}, v))
	u := *r.URL
	u.Path = rest
	if u.RawPath != "" {
		_, u.RawPath = splitVersion(u.RawPath)
	}
	r2.URL = &u
	return r2, nil
}

// compareVersions compares dotted decimal versions: -1, 0 or 1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
