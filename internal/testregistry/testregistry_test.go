package testregistry

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func get(t *testing.T, u string, auth func(*http.Request)) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		auth      Auth
		anonymous int
	}{
		{AuthNone, http.StatusOK},
		{AuthBasic, http.StatusUnauthorized},
		{AuthToken, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.auth.String(), func(t *testing.T) {
			t.Parallel()
			r := Start(t, Options{Auth: tt.auth})
			base := "http://" + r.Host + "/v2/"
			code, hdr, _ := get(t, base, nil)
			if code != tt.anonymous {
				t.Fatalf("anonymous GET /v2/: got %d, want %d", code, tt.anonymous)
			}
			switch tt.auth {
			case AuthBasic:
				code, _, _ = get(t, base, func(r2 *http.Request) { r2.SetBasicAuth(r.User, r.Password) })
				if code != http.StatusOK {
					t.Fatalf("GET /v2/ with basic credentials: got %d, want 200", code)
				}
				code, _, _ = get(t, base, func(r2 *http.Request) { r2.SetBasicAuth(r.User, "wrong") })
				if code != http.StatusUnauthorized {
					t.Fatalf("GET /v2/ with a wrong password: got %d, want 401", code)
				}
			case AuthToken:
				ch := hdr.Get("WWW-Authenticate")
				if !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, r.Token.Realm) {
					t.Fatalf("challenge: got %q, want a bearer challenge with realm %s", ch, r.Token.Realm)
				}
				q := url.Values{"service": {TokenService}, "scope": {"repository:x/y:pull"}}
				code, _, body := get(t, r.Token.Realm+"?"+q.Encode(), func(r2 *http.Request) { r2.SetBasicAuth(r.User, r.Password) })
				if code != http.StatusOK {
					t.Fatalf("token request: got %d, want 200", code)
				}
				var tok struct{ Token string }
				if err := json.Unmarshal(body, &tok); err != nil {
					t.Fatal(err)
				}
				bearer := func(r2 *http.Request) { r2.Header.Set("Authorization", "Bearer "+tok.Token) }
				if code, _, b := get(t, base, bearer); code != http.StatusOK {
					t.Fatalf("GET /v2/ with the token: got %d, want 200 (%s)", code, b)
				}
				// Allowed to pull x/y: an unknown repository is 404, not 401.
				if code, _, b := get(t, base+"x/y/tags/list", bearer); code != http.StatusNotFound {
					t.Fatalf("GET tags with the token: got %d, want 404 (%s)", code, b)
				}
				if code, _, _ := get(t, base+"other/tags/list", bearer); code != http.StatusUnauthorized {
					t.Fatalf("GET tags of a repository outside the token: got %d, want 401", code)
				}
				code, _, _ = get(t, r.Token.Realm+"?"+q.Encode(), func(r2 *http.Request) { r2.SetBasicAuth(r.User, "wrong") })
				if code != http.StatusUnauthorized {
					t.Fatalf("token request with a wrong password: got %d, want 401", code)
				}
			}
		})
	}
}
