package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"
)

// fakeVolumes records what the routes ask of the volume backend.
type fakeVolumes struct {
	pruneFilters map[string][]string
	exportErr    error
	imported     string
}

func (f *fakeVolumes) Create(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	return volume.Volume{Name: req.Name, Driver: "local"}, nil
}

func (f *fakeVolumes) Get(ctx context.Context, name string) (volume.Volume, error) {
	if name == "missing" {
		return volume.Volume{}, errorf(errdefs.ErrNotFound, "get %s: no such volume", name)
	}
	return volume.Volume{Name: name}, nil
}

func (f *fakeVolumes) List(ctx context.Context, filters map[string][]string) ([]volume.Volume, error) {
	return []volume.Volume{}, nil
}

func (f *fakeVolumes) Remove(ctx context.Context, name string, force bool) error { return nil }

func (f *fakeVolumes) Prune(ctx context.Context, filters map[string][]string) (volume.PruneReport, error) {
	f.pruneFilters = filters
	return volume.PruneReport{VolumesDeleted: []string{}}, nil
}

func (f *fakeVolumes) Export(ctx context.Context, name string, w io.Writer) error {
	if f.exportErr != nil {
		return f.exportErr
	}
	_, err := io.WriteString(w, "tar bytes")
	return err
}

func (f *fakeVolumes) Import(ctx context.Context, name string, r io.Reader) error {
	b, err := io.ReadAll(r)
	f.imported = name + ":" + string(b)
	return err
}

func TestVolumeRoutes(t *testing.T) {
	fake := &fakeVolumes{}
	s := New(Options{Version: "test"})
	s.AddVolumes(fake)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" && method == "POST" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	all := url.QueryEscape(`{"all":{"true":true}}`)
	for _, tc := range []struct {
		path string
		code int
		want map[string][]string
	}{
		{"/v1.41/volumes/prune", 200, map[string][]string{"all": {"true"}}}, // before 1.42: every unused volume
		{"/v1.42/volumes/prune", 200, map[string][]string{}},
		{"/v1.51/volumes/prune?filters=" + all, 200, map[string][]string{"all": {"true"}}},
		{"/v1.41/volumes/prune?filters=" + url.QueryEscape(`{"all":{"false":true}}`), 200, map[string][]string{"all": {"true"}}},
		{"/v1.51/volumes/prune?filters=" + url.QueryEscape(`{"dangling":{"true":true}}`), 400, nil},
	} {
		fake.pruneFilters = nil
		w := do("POST", tc.path, "")
		if w.Code != tc.code || tc.want != nil && !reflect.DeepEqual(fake.pruneFilters, tc.want) {
			t.Errorf("POST %s: got %d %v, want %d %v", tc.path, w.Code, fake.pruneFilters, tc.code, tc.want)
		}
	}
	if w := do("POST", "/volumes/create", `{"Name":"v1"}`); w.Code != 201 || !strings.Contains(w.Body.String(), `"Name":"v1"`) {
		t.Errorf("create: got %d %s", w.Code, w.Body)
	}
	if w := do("POST", "/volumes/create", `{"Name":`); w.Code != 400 {
		t.Errorf("create with bad JSON: got %d, want 400", w.Code)
	}
	if w := do("GET", "/volumes/missing", ""); w.Code != 404 || !strings.Contains(w.Body.String(), "get missing: no such volume") {
		t.Errorf("inspect of a missing volume: got %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/volumes?filters="+url.QueryEscape(`{"bogus":{"x":true}}`), ""); w.Code != 400 {
		t.Errorf("list with a bad filter: got %d, want 400", w.Code)
	}
	if w := do("DELETE", "/volumes/v1?force=1", ""); w.Code != 204 {
		t.Errorf("remove: got %d, want 204", w.Code)
	}
	if w := do("GET", "/volumes/v1/export", ""); w.Code != 200 || w.Body.String() != "tar bytes" || w.Header().Get("Content-Type") != "application/x-tar" {
		t.Errorf("export: got %d %q %v", w.Code, w.Body, w.Header())
	}
	if w := do("GET", "/volumes/missing/export", ""); w.Code != 404 {
		t.Errorf("export of a missing volume: got %d, want 404", w.Code)
	}
	fake.exportErr = errorf(errdefs.ErrConflict, "volume v1 is being imported or exported")
	if w := do("GET", "/volumes/v1/export", ""); w.Code != http.StatusConflict {
		t.Errorf("export failing before any byte: got %d, want 409", w.Code)
	}
	fake.exportErr = nil
	if w := do("PUT", "/volumes/v1/import", "archive"); w.Code != 204 || fake.imported != "v1:archive" {
		t.Errorf("import: got %d, %q", w.Code, fake.imported)
	}
}
