package server

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/daemon/events"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/snapshot/native"
)

// env is a server over a real image service (native snapshotter, in a
// temp dir), with the image service wrapped so tests can replace Pull.
type env struct {
	t     *testing.T
	srv   *Server
	svc   *image.Service
	users *fakeUsers
	pull  func(ctx context.Context, ref string, opts image.PullOptions) (image.Named, error)
}

// service is the real image service with a replaceable Pull (no
// registry in unit tests).
type service struct {
	*image.Service
	e *env
}

func (s service) Pull(ctx context.Context, ref string, opts image.PullOptions) (image.Named, error) {
	if s.e.pull == nil {
		return image.Named{}, fmt.Errorf("no registry in unit tests: %w", errdefs.ErrUnavailable)
	}
	return s.e.pull(ctx, ref, opts)
}

type fakeUsers struct{ by map[digest.Digest][]ImageUser }

func (f *fakeUsers) ContainersUsing(ctx context.Context, id digest.Digest) ([]ImageUser, error) {
	return f.by[id], nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	db, err := bolt.Open(filepath.Join(root, "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs, err := content.Open(filepath.Join(root, "content"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := native.New(root, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })
	reg := registry.New(registry.Options{Keychain: Keychain()})
	svc, err := image.NewService(db, cs, snap, reg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, users: &fakeUsers{by: map[digest.Digest][]ImageUser{}}}
	bus := events.New(0)
	e.srv = New(Options{Version: "test", Logger: slog.New(slog.DiscardHandler)})
	e.srv.AddSystem(System{Info: SystemInfo{DataRoot: root, StorageDriver: "native"}, Images: svc.Store, Usage: svc, Events: bus, Registry: reg})
	e.srv.AddImages(Images{Service: service{svc, e}, Store: svc.Store, Blobs: cs, Layers: snap, Events: bus, Users: e.users, Driver: "native"})
	return e
}

// do sends a request to the server and returns the recorded answer.
func (e *env) do(method, path string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// rootfs is a small rootfs tarball; name varies its content.
func rootfs(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := []byte("content of " + name + "\n")
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(1e9, 0)})
	tw.WriteHeader(&tar.Header{Name: "etc/name", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(1e9, 0)})
	tw.Write(data)
	tw.Close()
	return buf.Bytes()
}

// imported imports a rootfs as repo (may be empty) and returns its ID.
func (e *env) imported(name, repo string, changes ...string) digest.Digest {
	e.t.Helper()
	q := "fromSrc=-&repo=" + repo
	for _, c := range changes {
		q += "&changes=" + strings.ReplaceAll(c, " ", "%20")
	}
	rec := e.do("POST", "/v1.50/images/create?"+q, bytes.NewReader(rootfs(e.t, name)))
	var m struct{ Status string }
	if err := json.Unmarshal(rec.Body.Bytes(), &m); rec.Code != 200 || err != nil {
		e.t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	return digest.Digest(m.Status)
}

func TestImageRoutes(t *testing.T) {
	e := newEnv(t)
	id := e.imported("a", "reg.example:5000/team/app:v1", "LABEL team=berth")
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1.50/images/reg.example:5000/team/app:v1/json", 200, `"Id":"` + id.String()},
		{"GET", "/images/reg.example:5000/team/app:v1/json", 200, `"RepoTags":["reg.example:5000/team/app:v1"]`},
		{"GET", "/v1.50/images/" + id.Encoded()[:12] + "/json", 200, `"GraphDriver":{"Data":{},"Name":"native"}`},
		{"GET", "/v1.50/images/reg.example:5000/team/app:v1/history", 200, `"Id":"` + id.String()},
		{"GET", "/v1.50/images/reg.example:5000/team/app:v1/bogus", 404, "page not found"},
		{"GET", "/v1.50/images/json", 200, `"Labels":{"team":"berth"}`},
		{"GET", `/v1.50/images/json?filters={"label":{"team=other":true}}`, 200, `[]`},
		{"GET", `/v1.50/images/json?filters={"reference":["reg.example:5000/team/*"]}`, 200, `"RepoTags":["reg.example:5000/team/app:v1"]`},
		{"GET", `/v1.43/images/json`, 200, `"VirtualSize":`},
		{"GET", `/v1.50/images/json?filters={"dangling":["maybe"]}`, 400, "invalid filter 'dangling=maybe'"},
		{"POST", "/v1.50/images/reg.example:5000/team/app:v1/tag?repo=copy&tag=two", 201, ""},
		{"POST", "/v1.50/images/reg.example:5000/team/app:v1/tag?repo=copy@sha256:" + id.Encoded(), 400, "digest"},
		{"POST", "/v1.50/images/reg.example:5000/team/app:v1/tag?repo=sha256", 400, "ambiguous"},
		{"POST", "/v1.50/images/reg.example:5000/team/app:v1/tag", 400, "repo"},
		{"GET", "/v1.50/images/copy:two/json", 200, `"copy:two"`},
	}
	for _, c := range cases {
		rec := e.do(c.method, c.path, nil)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s %s: got %d %s, want %d with %q", c.method, c.path, rec.Code, rec.Body, c.status, c.body)
		}
	}
	// API 1.42 lists an untagged image with <none> placeholders.
	e.imported("b", "")
	if rec := e.do("GET", "/v1.42/images/json", nil); !strings.Contains(rec.Body.String(), `"RepoTags":["\u003cnone\u003e:\u003cnone\u003e"]`) &&
		!strings.Contains(rec.Body.String(), `"RepoTags":["<none>:<none>"]`) {
		t.Errorf("API 1.42 list: got %s, want <none>:<none>", rec.Body)
	}
}

// TestRemove: dockerd's rules for DELETE /images/{name}.
func TestRemove(t *testing.T) {
	e := newEnv(t)
	id := e.imported("r", "one:v1")
	e.do("POST", "/images/one:v1/tag?repo=two&tag=v1", nil)

	del := func(name, query string) (int, string) {
		rec := e.do("DELETE", "/v1.50/images/"+name+query, nil)
		return rec.Code, rec.Body.String()
	}
	if code, body := del(id.String(), ""); code != 409 || !strings.Contains(body, "must be forced) - image is referenced in multiple repositories") {
		t.Errorf("delete by ID with two repositories: got %d %s", code, body)
	}
	if code, body := del("two:v1", ""); code != 200 || body != `[{"Untagged":"two:v1"}]`+"\n" {
		t.Errorf("untag two:v1: got %d %s", code, body)
	}
	e.users.by[id] = []ImageUser{{ID: "c0ffee0123456789", Running: true}}
	if code, body := del(id.String(), "?force=1"); code != 409 || !strings.Contains(body, "cannot be forced) - image is being used by running container c0ffee012345") {
		t.Errorf("delete an image a running container uses: got %d %s", code, body)
	}
	if code, body := del("one:v1", ""); code != 409 || !strings.Contains(body, "container c0ffee012345 is using its referenced image") {
		t.Errorf("untag the last name of a used image: got %d %s", code, body)
	}
	e.users.by[id] = []ImageUser{{ID: "c0ffee0123456789"}}
	if code, body := del(id.String(), ""); code != 409 || !strings.Contains(body, "image is being used by stopped container") {
		t.Errorf("delete an image a stopped container uses: got %d %s", code, body)
	}
	if code, body := del(id.String(), "?force=true"); code != 200 || !strings.Contains(body, `{"Untagged":"one:v1"}`) || !strings.Contains(body, `{"Deleted":"`+id.String()+`"}`) {
		t.Errorf("forced delete: got %d %s", code, body)
	}
	if code, body := del("one:v1", ""); code != 404 || !strings.Contains(body, "No such image: one:latest") && !strings.Contains(body, "No such image: one:v1") {
		t.Errorf("delete a deleted image: got %d %s", code, body)
	}
}

// TestPullStream: progress as docker renders it; an error before any
// progress is a status code, one after it the stream's last message.
func TestPullStream(t *testing.T) {
	e := newEnv(t)
	e.pull = func(ctx context.Context, ref string, opts image.PullOptions) (image.Named, error) {
		if ref != "docker.io/library/busybox:1.36" || opts.Platform.Architecture != "arm64" {
			return image.Named{}, fmt.Errorf("unexpected pull of %s for %+v", ref, opts.Platform)
		}
		opts.Progress(image.Progress{ID: "aaaaaaaaaaaa", Status: "Pulling fs layer"})
		opts.Progress(image.Progress{ID: "aaaaaaaaaaaa", Status: "Downloading", Current: 5, Total: 10})
		return image.Named{}, fmt.Errorf("connection reset: %w", errdefs.ErrUnavailable)
	}
	rec := e.do("POST", "/v1.47/images/create?fromImage=busybox&tag=1.36&platform=linux/arm64", nil)
	want := []string{
		`{"status":"Pulling from library/busybox","id":"1.36"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}`,
		`{"status":"Downloading","progressDetail":{"current":5,"total":10},"progress":"[=========================>                        ]       5B/10B","id":"aaaaaaaaaaaa"}`,
		`{"errorDetail":{"message":"connection reset"},"error":"connection reset"}`,
	}
	if got := strings.Split(strings.TrimSpace(rec.Body.String()), "\n"); rec.Code != 200 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pull stream: got %d\n%s\nwant\n%s", rec.Code, rec.Body, strings.Join(want, "\n"))
	}
	for err, status := range map[error]int{
		fmt.Errorf("manifest unknown: %w", errdefs.ErrNotFound):      404,
		fmt.Errorf("no credentials: %w", errdefs.ErrUnauthenticated): 404,
		fmt.Errorf("registry down: %w", errdefs.ErrUnavailable):      503,
	} {
		e.pull = func(context.Context, string, image.PullOptions) (image.Named, error) { return image.Named{}, err }
		rec := e.do("POST", "/v1.50/images/create?fromImage=busybox", nil)
		if rec.Code != status || !strings.Contains(rec.Body.String(), `"message":`) {
			t.Errorf("pull failing with %v: got %d %s, want %d", err, rec.Code, rec.Body, status)
		}
	}
	e.pull = func(context.Context, string, image.PullOptions) (image.Named, error) {
		return image.Named{}, fmt.Errorf("GET /v2/: %w", errdefs.ErrUnauthenticated)
	}
	if rec := e.do("POST", "/v1.50/images/create?fromImage=busybox", nil); !strings.Contains(rec.Body.String(), "pull access denied for busybox, repository does not exist or may require 'docker login'") {
		t.Errorf("pull without credentials: got %s", rec.Body)
	}
}

func TestSaveLoadEvents(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	id := e.imported("s", "saved:v1")
	rec := e.do("GET", "/v1.50/images/get?names=saved:v1", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-tar" || rec.Body.Len() < 1024 {
		t.Fatalf("save: got %d %s, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
	archive := rec.Body.Bytes()
	e.do("DELETE", "/images/saved:v1", nil)
	rec = e.do("POST", "/v1.50/images/load?quiet=0", bytes.NewReader(archive))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `{"stream":"Loaded image: saved:v1\n"}`) || !strings.Contains(rec.Body.String(), `"status":"Loading layer"`) {
		t.Errorf("load: got %d %s", rec.Code, rec.Body)
	}
	if rec := e.do("POST", "/v1.50/images/load", strings.NewReader("not a tar")); !strings.Contains(rec.Body.String(), `"message"`) {
		t.Errorf("load of junk: got %d %s, want an error", rec.Code, rec.Body)
	}
	rec = e.do("GET", fmt.Sprintf("/events?since=%d&until=%s", start.Unix(), timestampOf(time.Now())), nil)
	var actions []string
	dec := json.NewDecoder(rec.Body)
	for {
		var ev wireEvent
		if err := dec.Decode(&ev); err != nil {
			break
		}
		actions = append(actions, string(ev.Action)+" "+ev.Actor.ID)
	}
	want := []string{"import " + id.String(), "save " + id.String(), "untag " + id.String(), "delete " + id.String(), "load " + id.String()}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("events: got\n%s\nwant\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	if rec := e.do("GET", "/events?filters={\"colour\":[\"x\"]}", nil); rec.Code != 400 {
		t.Errorf("events with an unknown filter: got %d", rec.Code)
	}
}

func timestampOf(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// TestUnitRoutes: what needs no image service.
func TestUnitRoutes(t *testing.T) {
	srv := New(Options{Version: "v", Logger: slog.New(slog.DiscardHandler)})
	srv.AddSystem(System{Registry: registry.New(registry.Options{})})
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/_ping", 200, "OK"},
		{"HEAD", "/v1.40/_ping", 200, ""},
		{"GET", "/v1.23/_ping", 400, "too old"},
		{"GET", "/v2.0/_ping", 400, "too new"},
		{"GET", "/vX/_ping", 404, "page not found"},
		{"GET", "/v1.51/version", 200, `"MinAPIVersion":"1.24"`},
		{"GET", "/containers/json", 501, "not implemented yet"},
		{"GET", "/containers/some/image:tag/json", 404, "No such container: some/image:tag"},
		{"DELETE", "/containers/x", 501, "not implemented yet"},
		{"GET", "/volumes", 501, "not implemented yet"},
		{"POST", "/swarm/init", 501, "not implemented yet"},
		{"GET", "/nope", 404, `{"message":"page not found"}`},
	}
	for _, c := range cases {
		rec := do(c.method, c.path)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s %s: got %d %s, want %d with %q", c.method, c.path, rec.Code, rec.Body, c.status, c.body)
		}
		if rec.Header().Get("API-Version") != MaxAPIVersion || !strings.HasPrefix(rec.Header().Get("Server"), "berthd/v") {
			t.Errorf("%s %s: headers %v", c.method, c.path, rec.Header())
		}
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", errdefs.ErrNotFound), 404},
		{fmt.Errorf("x: %w", errdefs.ErrInvalidArgument), 400},
		{fmt.Errorf("x: %w", errdefs.ErrAlreadyExists), 409},
		{fmt.Errorf("x: %w", errdefs.ErrConflict), 409},
		{fmt.Errorf("x: %w", errdefs.ErrFailedPrecondition), 409},
		{fmt.Errorf("x: %w", errdefs.ErrNotModified), 304},
		{fmt.Errorf("x: %w", errdefs.ErrUnauthenticated), 401},
		{fmt.Errorf("x: %w", errdefs.ErrPermissionDenied), 403},
		{fmt.Errorf("x: %w", errdefs.ErrNotImplemented), 501},
		{fmt.Errorf("x: %w", errdefs.ErrUnavailable), 503},
		{fmt.Errorf("x: %w", errdefs.ErrDataLoss), 500},
		{fmt.Errorf("plain"), 500},
		{withMessage(errdefs.ErrNotFound, "No such image: x:latest"), 404},
	}
	for _, c := range cases {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v): got %d, want %d", c.err, got, c.want)
		}
	}
	if got := errorText(fmt.Errorf("no such image: x: %w", errdefs.ErrNotFound)); got != "no such image: x" {
		t.Errorf("errorText: got %q, want the class suffix gone", got)
	}
}
