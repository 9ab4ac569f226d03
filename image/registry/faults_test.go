package registry

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// faultyRegistry pushes an image with a large incompressible layer to a
// real registry and puts a proxy in front of it whose blob and manifest
// answers fault breaks.
type faultyRegistry struct {
	reg   *testregistry.Registry
	proxy *testregistry.Proxy
	img   *testimage.Image
	layer ocispec.Descriptor

	mu     sync.Mutex
	ranges []string // Range headers of layer requests
}

func newFaultyRegistry(t *testing.T, auth testregistry.Auth, fault func(n int, w http.ResponseWriter, r *http.Request) http.ResponseWriter) *faultyRegistry {
	t.Helper()
	big := make([]byte, 512<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	f := &faultyRegistry{reg: testregistry.Start(t, testregistry.Options{Auth: auth})}
	f.img = testimage.Build(t, testimage.Spec{Layers: []testimage.Layer{
		{Compression: testimage.Uncompressed, Files: []testimage.File{{Name: "big", Data: big}}},
	}})
	f.layer = f.img.Layers[0]
	testimage.Push(t, f.img.Manifest, f.img.Blobs, f.reg.Ref("faulty/app", ":v1"), f.reg.Creds())
	var count atomic.Int32
	f.proxy = testregistry.StartProxy(t, f.reg.Host, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, f.layer.Digest.String()) ||
				strings.Contains(r.URL.Path, "/manifests/")) {
				if strings.HasSuffix(r.URL.Path, f.layer.Digest.String()) {
					f.mu.Lock()
					f.ranges = append(f.ranges, r.Header.Get("Range"))
					f.mu.Unlock()
				}
				w = fault(int(count.Add(1)), w, r)
			}
			next.ServeHTTP(w, r)
		})
	})
	return f
}

func (f *faultyRegistry) repo(t *testing.T) string { return f.proxy.Host + "/faulty/app" }

func (f *faultyRegistry) client(t *testing.T, retries int) *Client {
	opts := Options{Retries: retries}
	if f.reg.Auth != testregistry.AuthNone {
		opts.ConfigPath = writeConfig(t, f.proxy.Host, f.reg.User, f.reg.Password)
	}
	return clientFor(t, f.reg, opts)
}

// TestBlobReaderResumes cuts the layer's body mid-way (twice) and checks
// that the reader asks again from where it stopped and delivers the whole
// blob once.
func TestBlobReaderResumes(t *testing.T) {
	t.Parallel()
	f := newFaultyRegistry(t, testregistry.AuthToken, func(n int, w http.ResponseWriter, r *http.Request) http.ResponseWriter {
		switch n {
		case 1:
			return testregistry.CutAfter(w, 100_000)
		case 2:
			return testregistry.CutAfter(w, 50_000)
		}
		return w
	})
	c := f.client(t, 2)
	got := readBlob(t, c, repoOf(t, f.repo(t)), f.layer, 0)
	if !bytes.Equal(got, f.img.Blobs[f.layer.Digest]) {
		t.Fatalf("resumed blob: got %d bytes with digest %s, want %d bytes with %s", len(got), digest.FromBytes(got), f.layer.Size, f.layer.Digest)
	}
	want := []string{"", "bytes=100000-", "bytes=150000-"}
	if fmt.Sprint(f.ranges) != fmt.Sprint(want) {
		t.Fatalf("Range headers: got %q, want %q", f.ranges, want)
	}
}

// TestBlobReaderGivesUp cuts every answer without progress after the
// first: the reader fails after its retries, naming the offset.
func TestBlobReaderGivesUp(t *testing.T) {
	t.Parallel()
	f := newFaultyRegistry(t, testregistry.AuthNone, func(n int, w http.ResponseWriter, r *http.Request) http.ResponseWriter {
		if n == 1 {
			return testregistry.CutAfter(w, 1000)
		}
		return testregistry.CutAfter(w, 0)
	})
	c := f.client(t, 2)
	rc, err := c.BlobReader(ctxFor(t), repoOf(t, f.repo(t)), f.layer, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err == nil || !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "offset 1000") {
		t.Fatalf("read of a blob cut every time: got %v, want unavailable naming offset 1000", err)
	}
	if len(b) != 1000 {
		t.Fatalf("delivered %d bytes, want 1000", len(b))
	}
	if len(f.ranges) != 3 {
		t.Fatalf("requests: got %d (%q), want 3 (one and two retries)", len(f.ranges), f.ranges)
	}
}

// TestCorruptAnswers checks that a body with a wrong digest, or cut short
// every time, is an error and not data.
func TestCorruptAnswers(t *testing.T) {
	t.Parallel()
	f := newFaultyRegistry(t, testregistry.AuthNone, func(n int, w http.ResponseWriter, r *http.Request) http.ResponseWriter {
		if strings.Contains(r.URL.Path, "/manifests/") {
			return testregistry.Corrupt(w, 20)
		}
		return testregistry.CutAfter(w, 10)
	})
	c := f.client(t, 1)
	ctx := ctxFor(t)
	ref := f.repo(t) + "@" + f.img.Manifest.Digest.String()
	if _, _, _, err := c.Resolve(ctx, ref); !errdefs.IsDataLoss(err) {
		t.Errorf("Resolve(%s) of a corrupt manifest: got %v, want data loss", ref, err)
	}
	repo := repoOf(t, f.repo(t))
	if _, err := c.FetchManifest(ctx, repo, f.img.Manifest); !errdefs.IsDataLoss(err) {
		t.Errorf("FetchManifest of a corrupt manifest: got %v, want data loss", err)
	}
	if _, err := c.FetchBlob(ctx, repo, f.layer); !errdefs.IsUnavailable(err) {
		t.Errorf("FetchBlob of a body cut every time: got %v, want unavailable", err)
	}
}

// fakeRegistry serves /v2/ itself and hands every other request to h.
func fakeRegistry(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestBlobReaderAnswers(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("0123456789"), 1000)
	desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	tests := []struct {
		name    string
		serve   func(w http.ResponseWriter, r *http.Request, calls int)
		offset  int64
		want    []byte
		wantErr func(error) bool
	}{
		{
			name:   "range ignored",
			offset: 1234,
			serve:  func(w http.ResponseWriter, r *http.Request, _ int) { _, _ = w.Write(blob) },
			want:   blob[1234:],
		},
		{
			name: "503 then data",
			serve: func(w http.ResponseWriter, r *http.Request, calls int) {
				if calls == 1 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				_, _ = w.Write(blob)
			},
			want: blob,
		},
		{
			name: "more than the size",
			serve: func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Length", fmt.Sprint(len(blob)+5))
				_, _ = w.Write(append(append([]byte(nil), blob...), "extra"...))
			},
			wantErr: errdefs.IsDataLoss,
		},
		{
			name: "more than the size, chunked",
			serve: func(w http.ResponseWriter, r *http.Request, _ int) {
				_, _ = w.Write(blob)
				w.(http.Flusher).Flush()
				_, _ = w.Write([]byte("extra"))
			},
			wantErr: errdefs.IsDataLoss,
		},
		{
			name:   "range from the wrong offset",
			offset: 100,
			serve: func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(blob)-1, len(blob)))
				w.WriteHeader(http.StatusPartialContent)
				_, _ = w.Write(blob)
			},
			wantErr: errdefs.IsDataLoss,
		},
		{
			name: "not found",
			serve: func(w http.ResponseWriter, r *http.Request, _ int) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`))
			},
			wantErr: errdefs.IsNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			host := fakeRegistry(t, func(w http.ResponseWriter, r *http.Request) {
				tt.serve(w, r, int(calls.Add(1)))
			})
			c := New(Options{RetryDelay: 1})
			rc, err := c.BlobReader(ctxFor(t), repoOf(t, host+"/fake"), desc, tt.offset)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(rc)
				rc.Close()
			}
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("got error %v, want %s", err, tt.name)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestResolveAnswers(t *testing.T) {
	t.Parallel()
	index := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	schema1 := []byte(`{"schemaVersion":1,"name":"x","tag":"v1","fsLayers":[]}`)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		digestHdr   string
		wantType    string
		wantErr     func(error) bool
		errText     string
	}{
		{name: "index", contentType: ocispec.MediaTypeImageIndex, body: index, wantType: ocispec.MediaTypeImageIndex},
		{name: "generic content type", contentType: "application/json", body: index, wantType: ocispec.MediaTypeImageIndex},
		{name: "schema1", contentType: MediaTypeDockerSchema1Signed, body: schema1, wantErr: errdefs.IsNotImplemented, errText: MediaTypeDockerSchema1Signed},
		{name: "unknown type", contentType: "application/vnd.example.thing+json", body: []byte(`{"schemaVersion":2}`),
			wantErr: errdefs.IsNotImplemented, errText: "application/vnd.example.thing+json"},
		{name: "digest header disagrees", contentType: ocispec.MediaTypeImageIndex, body: index,
			digestHdr: digest.FromString("other").String(), wantErr: errdefs.IsDataLoss},
		{name: "not JSON", contentType: ocispec.MediaTypeImageManifest, body: []byte("<html>"), wantErr: errdefs.IsInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host := fakeRegistry(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				if tt.digestHdr != "" {
					w.Header().Set("Docker-Content-Digest", tt.digestHdr)
				}
				_, _ = w.Write(tt.body)
			})
			c := New(Options{RetryDelay: 1})
			_, desc, _, err := c.Resolve(ctxFor(t), host+"/fake:v1")
			if tt.wantErr != nil {
				if !tt.wantErr(err) || !strings.Contains(fmt.Sprint(err), tt.errText) {
					t.Fatalf("got error %v, want %s error containing %q", err, tt.name, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if desc.MediaType != tt.wantType || desc.Digest != digest.FromBytes(tt.body) {
				t.Fatalf("got %s %s, want %s %s", desc.MediaType, desc.Digest, tt.wantType, digest.FromBytes(tt.body))
			}
		})
	}
}

// TestMirrors checks that a mirror is read before the registry, and that
// the registry answers what the mirror lacks or when it is down.
func TestMirrors(t *testing.T) {
	t.Parallel()
	upstream := testregistry.Start(t, testregistry.Options{})
	mirror := testregistry.Start(t, testregistry.Options{})
	up := testimage.Small(t, "upstream", testimage.Gzip, false)
	mir := testimage.Small(t, "mirror", testimage.Gzip, false)
	testimage.Push(t, up.Manifest, up.Blobs, upstream.Ref("lib/app", ":v1"), "")
	testimage.Push(t, up.Manifest, up.Blobs, upstream.Ref("lib/only-upstream", ":v1"), "")
	testimage.Push(t, mir.Manifest, mir.Blobs, mirror.Ref("lib/app", ":v1"), "")
	ctx := ctxFor(t)

	c := New(Options{Mirrors: map[string][]string{upstream.Host: {"127.0.0.1:1", mirror.Host}}, RetryDelay: 1})
	ref, desc, _, err := c.Resolve(ctx, upstream.Ref("lib/app", ":v1"))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != mir.Manifest.Digest {
		t.Fatalf("Resolve with a mirror: got %s, want the mirror's %s", desc.Digest, mir.Manifest.Digest)
	}
	if got := readBlob(t, c, ref.Context(), mir.Layers[0], 0); !bytes.Equal(got, mir.Blobs[mir.Layers[0].Digest]) {
		t.Fatalf("blob through the mirror differs")
	}
	if _, desc, _, err = c.Resolve(ctx, upstream.Ref("lib/only-upstream", ":v1")); err != nil || desc.Digest != up.Manifest.Digest {
		t.Fatalf("Resolve of what only the registry has: got %s, %v; want %s", desc.Digest, err, up.Manifest.Digest)
	}
	// Blobs the mirror lacks come from the registry.
	if got := readBlob(t, c, ref.Context(), up.Layers[0], 0); !bytes.Equal(got, up.Blobs[up.Layers[0].Digest]) {
		t.Fatalf("blob from the registry differs")
	}
}
