package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testcreds"
	"github.com/berth-dev/berth/internal/testdaemon"
	"github.com/berth-dev/berth/internal/testregistry"
	"github.com/berth-dev/berth/internal/testutil"
)

// credsEnv runs berth (or the docker CLI) against one berthd with a
// config directory of its own and fake credential helpers on PATH.
type credsEnv struct {
	t    *testing.T
	d    *daemon
	reg  *testregistry.Registry
	path string // PATH with the helpers first
}

// config writes a config directory holding content as config.json.
func (e *credsEnv) config(content string) string {
	e.t.Helper()
	dir := e.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func (e *credsEnv) berth(cfg, stdin string, args ...string) result {
	e.t.Helper()
	return run(e.t, strings.NewReader(stdin), []string{"BERTH_HOST=unix://" + e.d.Sock, "BERTH_CONFIG=" + cfg, "PATH=" + e.path}, args...)
}

func (e *credsEnv) login(cfg string) result {
	e.t.Helper()
	return e.berth(cfg, e.reg.Password+"\n", "login", "-u", e.reg.User, "--password-stdin", e.reg.Host)
}

// auths returns config.json's auths, each entry as its raw fields.
func auths(t *testing.T, cfg string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cfg, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Auths map[string]map[string]any }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("config.json: %v\n%s", err, b)
	}
	return doc.Auths
}

// TestRegistryCredsHelpers: berth login, pull and logout keep and find
// registry credentials through docker-credential-NAME helpers as the
// docker CLI does, against a registry that requires htpasswd auth.
func TestRegistryCredsHelpers(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{Auth: testregistry.AuthBasic})
	img := pushed(t, reg, "creds", "creds", "v1")
	ref := reg.Ref("creds", ":v1")
	test := testcreds.Install(t, "", "test")
	other := testcreds.Install(t, test.Dir, "other")
	e := &credsEnv{t: t, d: d, reg: reg, path: test.Dir + ":/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	want := testcreds.Creds{ServerURL: reg.Host, Username: reg.User, Secret: reg.Password}
	pulled := func(r result) bool {
		return r.Code == 0 && strings.Contains(r.Stdout, "Digest: "+img.Manifest.Digest.String())
	}

	t.Run("credsStore", func(t *testing.T) {
		cfg := e.config(`{"credsStore":"test","psFormat":"table {{.ID}}"}`)
		if r := e.berth(cfg, "", "pull", ref); r.Code != 1 {
			t.Errorf("pull before login, the helper empty: got %s, want a failure", r)
		}
		r := e.login(cfg)
		if r.Code != 0 || r.Stdout != "Login Succeeded\n" || strings.Contains(r.Stderr, "unencrypted") {
			t.Fatalf("login with a credsStore: got %s", r)
		}
		if got, ok := test.Stored(t, reg.Host); !ok || got != want {
			t.Errorf("helper's record after login: got %+v, %v; want %+v", got, ok, want)
		}
		if got := auths(t, cfg); len(got) != 1 || got[reg.Host] == nil || len(got[reg.Host]) != 0 {
			t.Errorf("auths after login: got %v, want only the placeholder %s: {}", got, reg.Host)
		}
		if b, _ := os.ReadFile(filepath.Join(cfg, "config.json")); strings.Contains(string(b), reg.Password) ||
			strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(reg.User+":"+reg.Password))) ||
			!strings.Contains(string(b), `"psFormat"`) || !strings.Contains(string(b), `"credsStore": "test"`) {
			t.Errorf("config.json after login: got\n%s\nwant no secret and the other keys kept", b)
		}
		if r := e.berth(cfg, "", "pull", ref); !pulled(r) {
			t.Errorf("pull with the helper's credentials: got %s", r)
		}
		if calls := test.Calls(); !slices.Contains(calls, "get "+reg.Host) {
			t.Errorf("helper calls: got %q, want a get of %s", calls, reg.Host)
		}
		if r := e.berth(cfg, "", "logout", reg.Host); r.Code != 0 || r.Stdout != "Removing login credentials for "+reg.Host+"\n" {
			t.Errorf("logout: got %s", r)
		}
		if _, ok := test.Stored(t, reg.Host); ok {
			t.Errorf("the helper still holds %s after logout", reg.Host)
		}
		if got := auths(t, cfg); len(got) != 0 {
			t.Errorf("auths after logout: got %v, want none", got)
		}
		if r := e.berth(cfg, "", "pull", ref); r.Code != 1 || !strings.Contains(strings.ToLower(r.Stderr), "unauthorized") {
			t.Errorf("pull after logout: got %s, want unauthorized", r)
		}
	})

	t.Run("credHelpers wins over credsStore", func(t *testing.T) {
		cfg := e.config(`{"credsStore":"other","credHelpers":{"` + reg.Host + `":"test"}}`)
		if r := e.login(cfg); r.Code != 0 {
			t.Fatalf("login: got %s", r)
		}
		if got, ok := test.Stored(t, reg.Host); !ok || got != want {
			t.Errorf("per-host helper's record: got %+v, %v; want %+v", got, ok, want)
		}
		if r := e.berth(cfg, "", "pull", ref); !pulled(r) {
			t.Errorf("pull through the per-host helper: got %s", r)
		}
		if calls := other.Calls(); len(calls) != 0 {
			t.Errorf("credsStore was called: %q; credHelpers must win", calls)
		}
		if r := e.berth(cfg, "", "logout", reg.Host); r.Code != 0 {
			t.Errorf("logout: got %s", r)
		}
		if _, ok := test.Stored(t, reg.Host); ok {
			t.Errorf("the per-host helper still holds %s after logout", reg.Host)
		}
	})

	t.Run("helper missing", func(t *testing.T) {
		orig := `{"credsStore":"missing"}`
		cfg := e.config(orig)
		r := e.login(cfg)
		if r.Code != 1 || !strings.Contains(r.Stderr, "error saving credentials") || !strings.Contains(r.Stderr, "docker-credential-missing") {
			t.Errorf("login through a missing helper: got %s, want an error naming docker-credential-missing", r)
		}
		if b, _ := os.ReadFile(filepath.Join(cfg, "config.json")); string(b) != orig {
			t.Errorf("config.json after the failed login: got %s, want it unchanged", b)
		}
	})

	t.Run("fallback to auths", func(t *testing.T) {
		entry := `{"auth":"` + base64.StdEncoding.EncodeToString([]byte(reg.User+":"+reg.Password)) + `"}`
		for _, content := range []string{
			`{"credHelpers":{"elsewhere.example":"test"},"auths":{"` + reg.Host + `":` + entry + `}}`,
			`{"credsStore":"test","auths":{"http://` + reg.Host + `/v1/":` + entry + `}}`,
		} {
			if r := e.berth(e.config(content), "", "pull", ref); !pulled(r) {
				t.Errorf("pull with %s: got %s", content, r)
			}
		}
	})

	// The docker CLI reads what berth login wrote, and berth what docker
	// login wrote: one layout.
	t.Run("docker CLI", func(t *testing.T) {
		docker := testutil.RequireBinary(t, "docker")
		cfg := e.config(`{"credsStore":"test"}`)
		dockerRun := func(stdin string, args ...string) result {
			t.Helper()
			env := []string{"DOCKER_HOST=unix://" + d.Sock, "DOCKER_CONFIG=" + cfg, "PATH=" + e.path, "HOME=" + t.TempDir()}
			return testdaemon.Run(t, strings.NewReader(stdin), env, docker, args...)
		}
		if r := e.login(cfg); r.Code != 0 {
			t.Fatalf("berth login: got %s", r)
		}
		if r := dockerRun("", "pull", ref); r.Code != 0 {
			t.Errorf("docker pull with berth's login: got %s", r)
		}
		if r := dockerRun("", "logout", reg.Host); r.Code != 0 {
			t.Errorf("docker logout: got %s", r)
		}
		if _, ok := test.Stored(t, reg.Host); ok {
			t.Errorf("the helper still holds %s after docker logout", reg.Host)
		}
		if r := dockerRun(reg.Password+"\n", "login", "-u", reg.User, "--password-stdin", reg.Host); r.Code != 0 {
			t.Fatalf("docker login: got %s", r)
		}
		if r := e.berth(cfg, "", "pull", ref); !pulled(r) {
			t.Errorf("berth pull with docker's login: got %s", r)
		}
	})
}
