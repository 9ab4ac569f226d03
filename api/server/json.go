package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 8 << 20

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return writeJSONBody(w, v)
}

func writeJSONBody(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// decodeJSON decodes a request body into v. An empty body is an error
// unless allowEmpty; a malformed one is answered 400 as dockerd does.
func decodeJSON(r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		if mt = strings.TrimSpace(mt); mt != "application/json" {
			return errorf(errdefs.ErrInvalidArgument, "unsupported Content-Type header (%s): must be 'application/json'", mt)
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if len(data) > maxJSONBody {
		return errorf(errdefs.ErrInvalidArgument, "request body is larger than %d bytes", maxJSONBody)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil
		}
		return errorf(errdefs.ErrInvalidArgument, "invalid JSON: request body is empty")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errorf(errdefs.ErrInvalidArgument, "invalid JSON: %v", err)
	}
	return nil
}

// boolValue reads a boolean query parameter as dockerd does: empty, "0",
// "no", "false" and "none" are false, anything else true.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// boolOr is boolValue with a default for a missing parameter.
func boolOr(r *http.Request, key string, def bool) bool {
	if !r.URL.Query().Has(key) {
		return def
	}
	return boolValue(r, key)
}

// intValue reads an integer query parameter; missing is def.
func intValue(r *http.Request, key string, def int64) (int64, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errorf(errdefs.ErrInvalidArgument, "invalid value for %s: %q is not an integer", key, s)
	}
	return n, nil
}

// termSize reads the h and w query parameters of a resize request: a
// terminal's rows and columns, which must fit in 16 bits.
func termSize(r *http.Request) (h, w uint16, err error) {
	hv, err := intValue(r, "h", 0)
	if err != nil {
		return 0, 0, err
	}
	wv, err := intValue(r, "w", 0)
	if err != nil {
		return 0, 0, err
	}
	if hv < 0 || wv < 0 || hv > 65535 || wv > 65535 {
		return 0, 0, errorf(errdefs.ErrInvalidArgument, "invalid terminal size %dx%d", hv, wv)
	}
	return uint16(hv), uint16(wv), nil
}

// filters decodes the "filters" query parameter: {"key":{"value":true}}
// or the older {"key":["value"]}. Keys outside allowed are refused as
// dockerd refuses them.
func filters(r *http.Request, allowed ...string) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &sets); err != nil {
		var lists map[string][]string
		if err2 := json.Unmarshal([]byte(raw), &lists); err2 != nil {
			return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter: %v", err)
		}
		for k, vs := range lists {
			out[k] = append(out[k], vs...)
		}
	} else {
		for k, set := range sets {
			for v, on := range set {
				if on {
					out[k] = append(out[k], v)
				}
			}
			sort.Strings(out[k])
		}
	}
	if allowed != nil {
		for k := range out {
			if !slices.Contains(allowed, k) {
				return nil, errorf(errdefs.ErrInvalidArgument, "invalid filter '%s'", k)
			}
		}
	}
	return out, nil
}

// nonNil is s, or an empty slice where s is nil, so that it is written
// as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
