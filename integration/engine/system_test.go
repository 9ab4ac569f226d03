package engine_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	d := newDaemon(t)
	out := d.OK("version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}")
	if got, want := strings.TrimSpace(out), "1.50 1.51 1.24 linux"; got != want {
		t.Errorf("docker version: got %q, want %q", got, want)
	}
	full := d.OK("version")
	for _, want := range []string{"Server: berth", "Engine:", "API version:      1.51 (minimum version 1.24)"} {
		if !strings.Contains(full, want) {
			t.Errorf("docker version output lacks %q:\n%s", want, full)
		}
	}
}

func TestInfo(t *testing.T) {
	d := newDaemon(t)
	r := d.Docker("info")
	if r.Code != 0 {
		t.Fatalf("docker info: exit %d: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{
		" Storage Driver: overlayfs", " Logging Driver: json-file", " Cgroup Driver: cgroupfs",
		" Docker Root Dir: " + d.Data, " Default Runtime: berth-runtime", " Swarm: inactive",
		"  Profile: builtin", " Live Restore Enabled: true", " Operating System: ",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("docker info lacks %q:\n%s", want, r.Stdout)
		}
	}
	for _, l := range lines(r.Stderr) {
		// Only the host warnings dockerd gives too may appear.
		if !strings.HasPrefix(l, "WARNING: No ") {
			t.Errorf("docker info printed on stderr: %q", l)
		}
	}
	var info struct {
		Images        int
		NCPU          int
		MemTotal      int64
		CgroupVersion string
		Name, ID      string
	}
	if err := json.Unmarshal([]byte(d.OK("info", "--format", "{{json .}}")), &info); err != nil {
		t.Fatalf("decode docker info --format json: %v", err)
	}
	if info.NCPU < 1 || info.MemTotal <= 0 || info.Name == "" || info.ID == "" || (info.CgroupVersion != "1" && info.CgroupVersion != "2") {
		t.Errorf("docker info: got %+v, want NCPU, MemTotal, Name, ID and a cgroup version", info)
	}
}

// TestAPIVersions: the version prefix, old and new clients, the ping
// headers clients negotiate from, and the routes not written yet.
func TestAPIVersions(t *testing.T) {
	d := newDaemon(t)
	cases := []struct {
		method, path string
		status       int
		body         string // a substring of the answer
	}{
		{"GET", "/v1.23/version", 400, `"message":"client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"`},
		{"GET", "/v1.99/version", 400, `"message":"client version 1.99 is too new. Maximum supported API version is 1.51"`},
		{"GET", "/v1.24/version", 200, `"ApiVersion":"1.51"`},
		{"GET", "/v1.44/info", 200, `"Driver":"overlayfs"`},
		{"GET", "/info", 200, `"OSType":"linux"`},
		{"GET", "/v1.51/_ping", 200, "OK"},
		{"GET", "/nothing/here", 404, `"message":"page not found"`},
		{"GET", "/v1.50/containers/json", 200, `[`},
		{"GET", "/v1.50/plugins", 501, `"message":"not implemented yet"`},
		{"POST", "/v1.50/build", 501, `"message":"not implemented yet"`},
		{"GET", "/v1.50/images/search?term=x", 501, "not supported"},
	}
	for _, c := range cases {
		status, _, body := d.API(c.method, c.path, nil)
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("%s %s: got %d %s, want %d with %q", c.method, c.path, status, body, c.status, c.body)
		}
	}
	status, h, body := d.API("HEAD", "/_ping", nil)
	if status != 200 || body != "" {
		t.Errorf("HEAD /_ping: got %d %q, want 200 and no body", status, body)
	}
	for k, want := range map[string]string{"API-Version": "1.51", "OSType": "linux", "Docker-Experimental": "false", "Cache-Control": "no-cache, no-store, must-revalidate"} {
		if got := h.Get(k); got != want {
			t.Errorf("HEAD /_ping header %s: got %q, want %q", k, got, want)
		}
	}
	// The CLI pinned to an old API version.
	r := d.DockerEnv(nil, []string{"DOCKER_API_VERSION=1.41"}, "version", "--format", "{{.Client.APIVersion}}")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1.41" {
		t.Errorf("docker version with API 1.41: got %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := d.DockerEnv(nil, []string{"DOCKER_API_VERSION=1.41"}, "images"); r.Code != 0 {
		t.Errorf("docker images with API 1.41: got %d %q", r.Code, r.Stderr)
	}
	r = d.DockerEnv(nil, []string{"DOCKER_API_VERSION=1.23"}, "info")
	if r.Code == 0 || !strings.Contains(r.Stderr, "client version 1.23 is too old") {
		t.Errorf("docker info with API 1.23: got %d %q", r.Code, r.Stderr)
	}
	if stderr := d.Fail("plugin", "ls"); !strings.Contains(stderr, "not implemented yet") {
		t.Errorf("docker plugin ls: got %q, want a clear 'not implemented yet'", stderr)
	}
	// These tests' berthd runs with --bridge=none: no default bridge.
	if got := strings.Fields(d.OK("network", "ls", "--format", "{{.Name}}")); strings.Join(got, " ") != "host none" {
		t.Errorf("docker network ls with --bridge=none: got %v, want host none", got)
	}
}

func TestBadJSON(t *testing.T) {
	d := newDaemon(t)
	cases := []struct {
		body, ctype string
		want        string
	}{
		{"{", "application/json", "invalid JSON"},
		{"", "application/json", "invalid JSON"},
		{`{"username": 3}`, "application/json", "invalid JSON"},
		{`{}`, "text/html", "unsupported Content-Type"},
		{`{"username":"a"}`, "application/json", "username and password are required"},
	}
	for _, c := range cases {
		status, _, body := d.API("POST", "/v1.50/auth", strings.NewReader(c.body), "Content-Type", c.ctype)
		if status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("POST /auth %q: got %d %s, want 400 with %q", c.body, status, body, c.want)
		}
	}
}
