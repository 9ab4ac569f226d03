package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/daemon/containers"
)

// fakeArchive answers the archive and commit routes for shape tests.
type fakeArchive struct {
	stat    container.PathStat
	put     []any
	commit  []any
	putBody string
}

func (f *fakeArchive) StatPath(ctx context.Context, ref, p string) (container.PathStat, error) {
	if p != "/etc" {
		return container.PathStat{}, errorf(errdefs.ErrNotFound, "Could not find the file %s in container %s", p, ref)
	}
	return f.stat, nil
}

func (f *fakeArchive) ArchivePath(ctx context.Context, ref, p string, start func(container.PathStat) (io.Writer, error)) error {
	st, err := f.StatPath(ctx, ref, p)
	if err != nil {
		return err
	}
	w, err := start(st)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "tar bytes")
	return err
}

func (f *fakeArchive) ExtractToDir(ctx context.Context, ref, p string, r io.Reader, o containers.ExtractOptions) error {
	b, _ := io.ReadAll(r)
	f.put, f.putBody = []any{ref, p, o}, string(b)
	return nil
}

func (f *fakeArchive) Commit(ctx context.Context, ref string, o containers.CommitOptions) (digest.Digest, error) {
	f.commit = []any{ref, o}
	return digest.FromString("image"), nil
}

// TestArchiveRoutes: the stat header's encoding, the answers' statuses
// and the queries' options, as the docker CLI sends and reads them.
func TestArchiveRoutes(t *testing.T) {
	f := &fakeArchive{stat: container.PathStat{Name: "etc", Size: 4096, Mode: 0o755 | 1<<31, Mtime: time.Unix(1, 0).UTC()}}
	s := New(Options{Version: "test"})
	s.AddContainers(Containers{Backend: &fakeContainers{}, Archive: f, Commit: f})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	do := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		resp := do(method, "/v1.50/containers/c1/archive?path=/etc", "")
		raw, err := base64.StdEncoding.DecodeString(resp.Header.Get("X-Docker-Container-Path-Stat"))
		var got container.PathStat
		if err == nil {
			err = json.Unmarshal(raw, &got)
		}
		if resp.StatusCode != http.StatusOK || err != nil || got != f.stat {
			t.Errorf("%s: got %d, stat %+v (%v), want 200 and %+v", method, resp.StatusCode, got, err, f.stat)
		}
	}
	if b, _ := io.ReadAll(do(http.MethodGet, "/containers/c1/archive?path=/etc", "").Body); string(b) != "tar bytes" {
		t.Errorf("GET body: got %q", b)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodHead, "/containers/c1/archive?path=/nope", http.StatusNotFound},
		{http.MethodGet, "/containers/c1/archive?path=/nope", http.StatusNotFound},
		{http.MethodGet, "/containers/c1/archive", http.StatusBadRequest},
		{http.MethodPut, "/containers/c1/archive", http.StatusBadRequest},
	} {
		if resp := do(tc.method, tc.path, ""); resp.StatusCode != tc.want {
			t.Errorf("%s %s: got %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	resp := do(http.MethodPut, "/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=true&copyUIDGID=1", "tar")
	want := []any{"c1", "/tmp", containers.ExtractOptions{NoOverwriteDirNonDir: true, CopyUIDGID: true}}
	if resp.StatusCode != http.StatusOK || f.putBody != "tar" || len(f.put) != 3 || f.put[0] != want[0] || f.put[1] != want[1] || f.put[2] != want[2] {
		t.Errorf("PUT: got %d %v %q, want 200 %v", resp.StatusCode, f.put, f.putBody, want)
	}

	resp = do(http.MethodPost, "/v1.50/commit?container=c1&repo=img&tag=v1&author=a&comment=m&pause=0&changes=ENV+A%3Db&changes=CMD+x", `{"Env":["X=1"]}`)
	var res container.CommitResponse
	json.NewDecoder(resp.Body).Decode(&res)
	o, _ := f.commit[1].(containers.CommitOptions)
	if resp.StatusCode != http.StatusCreated || res.ID != digest.FromString("image").String() || f.commit[0] != "c1" ||
		o.Ref != "img:v1" || o.Author != "a" || o.Comment != "m" || o.Pause || len(o.Changes) != 2 || o.Config == nil || o.Config.Env[0] != "X=1" {
		t.Errorf("commit: got %d %+v, options %+v", resp.StatusCode, res, o)
	}
	do(http.MethodPost, "/commit?container=c1", "")
	if o, _ := f.commit[1].(containers.CommitOptions); !o.Pause || o.Config != nil || o.Ref != "" {
		t.Errorf("commit with defaults: got %+v, want pause, no config, no name", o)
	}
	if resp := do(http.MethodPost, "/commit?container=c1&tag=v1", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("commit of a tag without a repository: got %d, want 400", resp.StatusCode)
	}
}
