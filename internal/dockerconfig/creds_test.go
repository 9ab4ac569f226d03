package dockerconfig

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/internal/testcreds"
)

// lookIn finds helper programs in dir only.
func lookIn(dir string) func(string) (string, error) {
	return func(file string) (string, error) {
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, path string) *File {
	t.Helper()
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLookup(t *testing.T) {
	fake := testcreds.Install(t, "", "fake")
	fake.Put(t, "known:5000", "alice", "secret")
	fake.Put(t, HubServer, "alice", "hubsecret")
	fake.Put(t, "token.example", IdentityUser, "refresh-me")
	store := testcreds.Install(t, fake.Dir, "store")
	store.Put(t, "stored.example", "sam", "st")
	path := writeConfig(t, `{
		"auths": {
			"plain.example": {"auth": "`+b64("bob:hunter2")+`"},
			"https://url.example:5000/v1/": {"username": "carol", "password": "pw"},
			"fallback.example": {"auth": "`+b64("erin:fb")+`"},
			"id.example": {"identitytoken": "idtok"}
		},
		"credHelpers": {"known:5000": "fake", "token.example": "fake", "fallback.example": "fake",
			"docker.io": "fake", "broken.example": "missing", "evil.example": "../../bin/sh",
			"plain.example": "", "url.example:5000": "", "id.example": "", "nobody.example": ""},
		"credsStore": "store",
		"HttpHeaders": {"X-Meta": "kept"}
	}`)
	f := load(t, path)
	h := Helpers{LookPath: lookIn(fake.Dir)}
	tests := []struct {
		server string
		want   Credentials
		err    func(error) bool
	}{
		{"plain.example", Credentials{Username: "bob", Password: "hunter2"}, nil},
		{"url.example:5000", Credentials{Username: "carol", Password: "pw"}, nil},
		{"index.docker.io", Credentials{Username: "alice", Password: "hubsecret"}, nil},
		{"known:5000", Credentials{Username: "alice", Password: "secret"}, nil},
		{"token.example", Credentials{IdentityToken: "refresh-me"}, nil},
		{"fallback.example", Credentials{Username: "erin", Password: "fb"}, nil},
		{"id.example", Credentials{IdentityToken: "idtok"}, nil},
		{"stored.example", Credentials{Username: "sam", Password: "st"}, nil},
		{"nobody.example", Credentials{}, nil},
		{"broken.example", Credentials{}, errdefs.IsNotFound},
		{"evil.example", Credentials{}, errdefs.IsInvalidArgument},
	}
	for _, tt := range tests {
		got, err := f.Lookup(context.Background(), h, tt.server)
		if tt.err != nil {
			if !tt.err(err) || !strings.Contains(err.Error(), "docker-credential-") {
				t.Errorf("Lookup(%s): got %v, want a classified error naming the helper", tt.server, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%s): got %+v, %v; want %+v", tt.server, got, err, tt.want)
		}
	}
	missing := load(t, filepath.Join(t.TempDir(), "none.json"))
	if got, err := missing.Lookup(context.Background(), h, "plain.example"); err != nil || !got.IsZero() {
		t.Errorf("Lookup with no config file: got %+v, %v; want nothing", got, err)
	}
}

// TestStoreThroughHelpers: login's rule — credHelpers[host], else
// credsStore — for store and erase, with only placeholders in auths.
func TestStoreThroughHelpers(t *testing.T) {
	store := testcreds.Install(t, "", "store")
	per := testcreds.Install(t, store.Dir, "per")
	path := writeConfig(t, `{"credsStore":"store","credHelpers":{"per.example":"per"},"auths":{"old.example":{}},"experimental":"enabled"}`)
	h := Helpers{LookPath: lookIn(store.Dir)}
	ctx := context.Background()
	f := load(t, path)
	for _, s := range []struct{ server, user, pass string }{
		{"http://new.example:5000/v2/", "frank", "pw1"}, {"per.example", "pete", "pw2"}, {"", "hub", "pw3"},
	} {
		if err := f.Store(ctx, h, s.server, Credentials{Username: s.user, Password: s.pass}); err != nil {
			t.Fatalf("Store(%s): %v", s.server, err)
		}
	}
	if err := f.Store(ctx, h, "tok.example", Credentials{Username: "tess", IdentityToken: "refresh"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		h      *testcreds.Helper
		server string
		want   testcreds.Creds
	}{
		{store, "new.example:5000", testcreds.Creds{ServerURL: "new.example:5000", Username: "frank", Secret: "pw1"}},
		{per, "per.example", testcreds.Creds{ServerURL: "per.example", Username: "pete", Secret: "pw2"}},
		{store, HubServer, testcreds.Creds{ServerURL: HubServer, Username: "hub", Secret: "pw3"}},
		{store, "tok.example", testcreds.Creds{ServerURL: "tok.example", Username: IdentityUser, Secret: "refresh"}},
	} {
		if got, ok := tt.h.Stored(t, tt.server); !ok || got != tt.want {
			t.Errorf("helper %s's record of %s: got %+v, %v; want %+v", tt.h.Name, tt.server, got, ok, tt.want)
		}
	}
	if _, ok := store.Stored(t, "per.example"); ok {
		t.Errorf("credsStore got per.example's credentials; credHelpers must win")
	}
	b, _ := os.ReadFile(path)
	var doc struct {
		Auths        map[string]map[string]any
		Experimental string
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"https://index.docker.io/v1/", "new.example:5000", "old.example", "per.example", "tok.example"}
	if got := sortedKeys(doc.Auths); !slices.Equal(got, wantKeys) || doc.Experimental != "enabled" {
		t.Fatalf("config after Store: got auths %v, experimental %q; want %v and enabled", got, doc.Experimental, wantKeys)
	}
	for key, e := range doc.Auths {
		if len(e) != 0 {
			t.Errorf("auths[%s]: got %v, want the placeholder {}", key, e)
		}
	}
	// Lookups go to the helpers: the placeholder holds nothing.
	f = load(t, path)
	if got, err := f.Lookup(ctx, h, "tok.example"); err != nil || got != (Credentials{IdentityToken: "refresh"}) {
		t.Errorf("Lookup(tok.example): got %+v, %v; want the identity token", got, err)
	}
	found, err := f.Erase(ctx, h, "per.example")
	if err != nil || !found {
		t.Fatalf("Erase(per.example): got %v, %v; want found", found, err)
	}
	if _, ok := per.Stored(t, "per.example"); ok {
		t.Errorf("Erase(per.example) left the helper's record")
	}
	if found, err := f.Erase(ctx, h, "never.example"); err != nil || found {
		t.Errorf("Erase of a server never stored: got %v, %v; want not found, no error", found, err)
	}
	if calls := per.Calls(); !slices.Contains(calls, "erase per.example") {
		t.Errorf("calls to the per-host helper: got %q, want an erase of per.example", calls)
	}
}

func TestStoreWithoutHelper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	ctx := context.Background()
	f := load(t, path)
	for _, s := range []struct{ server, user, pass string }{
		{"one.example", "u1", "p1"}, {"", "hubuser", "hubpass"}, {"https://one.example/v1/", "u2", "p:2"},
	} {
		if err := f.Store(ctx, Helpers{}, s.server, Credentials{Username: s.user, Password: s.pass}); err != nil {
			t.Fatalf("Store(%q): %v", s.server, err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, %v; want mode 0600", err, fi)
	}
	var cfg Config
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Auths) != 2 || cfg.Auths[HubServer].Auth != b64("hubuser:hubpass") || cfg.Auths["one.example"].Auth != b64("u2:p:2") {
		t.Fatalf("auths after stores: got %+v", cfg.Auths)
	}
	f = load(t, path)
	if got, _ := f.Lookup(ctx, Helpers{}, "one.example"); got.Password != "p:2" {
		t.Fatalf("Lookup after Store: got %+v, want password p:2", got)
	}
	if found, err := f.Erase(ctx, Helpers{}, "one.example"); err != nil || !found {
		t.Fatalf("Erase: got %v, %v; want found", found, err)
	}
	if found, _ := f.Erase(ctx, Helpers{}, "one.example"); found {
		t.Fatalf("second Erase: got found, want not")
	}
	if got, _ := f.Lookup(ctx, Helpers{}, "one.example"); !got.IsZero() {
		t.Fatalf("Lookup after Erase: got %+v, want nothing", got)
	}
}

// TestHelperFailures: a helper that is missing, fails, answers garbage,
// talks too much or hangs gives an error naming it, and a failed store
// leaves config.json as it was.
func TestHelperFailures(t *testing.T) {
	dir := t.TempDir()
	progs := map[string]string{
		"fails":   "echo 'keychain locked' >&2; exit 3",
		"garbage": "echo 'not json'",
		"chatty":  "head -c 2000000 /dev/zero",
		"hangs":   "exec sleep 60",
	}
	for name, body := range progs {
		if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte("#!/bin/sh\ncat >/dev/null\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := Helpers{LookPath: lookIn(dir), Timeout: 500 * time.Millisecond}
	ctx := context.Background()
	tests := []struct {
		helper, want string
		class        func(error) bool
	}{
		{"missing", "docker-credential-missing", errdefs.IsNotFound},
		{"fails", "docker-credential-fails get: exit status 3: keychain locked", nil},
		{"garbage", "docker-credential-garbage get: answer is not JSON", errdefs.IsInvalidArgument},
		{"chatty", "docker-credential-chatty get: answer longer than", errdefs.IsInvalidArgument},
		{"hangs", "docker-credential-hangs get: no answer in", nil},
		{"a/b", `"docker-credential-a/b": name is not a program name`, errdefs.IsInvalidArgument},
	}
	for _, tt := range tests {
		_, _, err := h.Get(ctx, tt.helper, "reg.example")
		if err == nil || !strings.Contains(err.Error(), tt.want) || tt.class != nil && !tt.class(err) {
			t.Errorf("Get through %s: got %v, want an error containing %q", tt.helper, err, tt.want)
		}
	}
	orig := `{"credsStore":"missing","auths":{}}`
	path := writeConfig(t, orig)
	f := load(t, path)
	if err := f.Store(ctx, h, "reg.example", Credentials{Username: "u", Password: "p"}); !errdefs.IsNotFound(err) {
		t.Fatalf("Store through a missing helper: got %v, want not found", err)
	}
	if _, ok := f.Config().Auths["reg.example"]; ok {
		t.Errorf("a failed Store added an auths entry")
	}
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Errorf("config.json after a failed Store: got %s, want it unchanged", b)
	}
	f = load(t, writeConfig(t, `{"credsStore":"fails","auths":{"reg.example":{}}}`))
	if found, err := f.Erase(ctx, h, "reg.example"); err == nil || found || !strings.Contains(err.Error(), "reg.example: credential helper docker-credential-fails erase") {
		t.Errorf("Erase through a failing helper: got %v, %v", found, err)
	}
	if _, ok := f.Config().Auths["reg.example"]; !ok {
		t.Errorf("a failed Erase dropped the auths entry")
	}
}

func TestFileKeepsOtherKeys(t *testing.T) {
	path := writeConfig(t, `{"auths":{"a.example":{"auth":"`+b64("a:b")+`","email":"x@y"},"b.example":{"auth":"`+b64("c:d")+`"}},"psFormat":"table {{.ID}}","detachKeys":"ctrl-x"}`)
	f := load(t, path)
	var keys string
	if ok, err := f.Get("detachKeys", &keys); !ok || err != nil || keys != "ctrl-x" {
		t.Fatalf("Get(detachKeys): got %q, %v, %v", keys, ok, err)
	}
	if err := f.Set("detachKeys", "ctrl-y"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("auths", 1); err == nil {
		t.Fatalf("Set(auths): got no error, want one")
	}
	f.DeleteEntries("b.example")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"psFormat": "table {{.ID}}"`, `"email": "x@y"`, `"detachKeys": "ctrl-y"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("saved file lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "b.example") {
		t.Errorf("saved file kept a deleted entry:\n%s", b)
	}
	// Save follows a symlinked config.json instead of replacing the link.
	link := filepath.Join(t.TempDir(), FileName)
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	g := load(t, link)
	g.SetEntry("c.example", AuthEntry{Auth: b64("e:f")})
	if err := g.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Save replaced the symlink %s: %v, %v", link, fi, err)
	}
	if c, ok := load(t, path).Credentials("c.example"); !ok || c.Username != "e" {
		t.Errorf("the link's target lacks the new entry: %+v, %v", c, ok)
	}
}
