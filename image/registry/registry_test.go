package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// writeConfig writes a config.json with basic credentials for host and
// returns its path.
func writeConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if err := os.WriteFile(path, fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientFor returns a client with the registry's credentials (from a
// config.json) and short retry pauses.
func clientFor(t *testing.T, reg *testregistry.Registry, opts Options) *Client {
	t.Helper()
	if reg.Auth != testregistry.AuthNone && opts.Keychain == nil && opts.ConfigPath == "" {
		opts.ConfigPath = writeConfig(t, reg.Host, reg.User, reg.Password)
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 5 * time.Millisecond
	}
	return New(opts)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func repoOf(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func platformImage(t *testing.T, os, arch, variant, tag string) *testimage.Image {
	return testimage.Build(t, testimage.Spec{
		Platform: ocispec.Platform{OS: os, Architecture: arch, Variant: variant},
		Layers:   []testimage.Layer{{Files: []testimage.File{{Name: "platform", Data: []byte(tag + " " + arch + variant)}}}},
	})
}

// readAll reads a blob through BlobReader and checks its digest.
func readBlob(t *testing.T, c *Client, repo name.Repository, desc ocispec.Descriptor, offset int64) []byte {
	t.Helper()
	rc, err := c.BlobReader(ctxFor(t), repo, desc, offset)
	if err != nil {
		t.Fatalf("BlobReader %s: %v", desc.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s: %v", desc.Digest, err)
	}
	return b
}

type progressLog struct {
	mu  sync.Mutex
	end map[digest.Digest]string // last status per blob
}

func (p *progressLog) record(pr Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end == nil {
		p.end = map[digest.Digest]string{}
	}
	p.end[pr.Digest] = pr.Status
}

func (p *progressLog) statuses() map[digest.Digest]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.end
}

// TestRegistry runs the client against Debian's docker-registry with each
// kind of authentication; skopeo pushes the fixtures and reads back what
// the client pushed.
func TestRegistry(t *testing.T) {
	t.Parallel()
	for _, mode := range []testregistry.Auth{testregistry.AuthNone, testregistry.AuthBasic, testregistry.AuthToken} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			testRegistryMode(t, mode)
		})
	}
}

func testRegistryMode(t *testing.T, mode testregistry.Auth) {
	reg := testregistry.Start(t, testregistry.Options{Auth: mode})
	c := clientFor(t, reg, Options{})
	ctx := ctxFor(t)

	img := testimage.Small(t, "app-"+mode.String(), testimage.Gzip, false)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("fixtures/app", ":v1"), reg.Creds())
	dimg := testimage.Small(t, "docker-"+mode.String(), testimage.Gzip, true)
	testimage.Push(t, dimg.Manifest, dimg.Blobs, reg.Ref("fixtures/docker", ":v1"), reg.Creds())
	amd := platformImage(t, "linux", "amd64", "", mode.String())
	arm64 := platformImage(t, "linux", "arm64", "v8", mode.String())
	armv6 := platformImage(t, "linux", "arm", "v6", mode.String())
	idx := testimage.NewIndex(t, false, amd, arm64, armv6)
	testimage.Push(t, idx.Desc, idx.Blobs, reg.Ref("fixtures/multi", ":v1"), reg.Creds())

	t.Run("resolve", func(t *testing.T) {
		tests := []struct {
			ref  string
			want ocispec.Descriptor
			body []byte
		}{
			{reg.Ref("fixtures/app", ":v1"), img.Manifest, img.ManifestBytes},
			{reg.Ref("fixtures/app", "@"+img.Manifest.Digest.String()), img.Manifest, img.ManifestBytes},
			{reg.Ref("fixtures/docker", ":v1"), dimg.Manifest, dimg.ManifestBytes},
			{reg.Ref("fixtures/multi", ":v1"), idx.Desc, idx.Bytes},
			{reg.Ref("fixtures/multi", "@"+idx.Desc.Digest.String()), idx.Desc, idx.Bytes},
		}
		for _, tt := range tests {
			ref, desc, body, err := c.Resolve(ctx, tt.ref)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", tt.ref, err)
			}
			if desc.Digest != tt.want.Digest || desc.Size != tt.want.Size || desc.MediaType != tt.want.MediaType {
				t.Errorf("Resolve(%s): got %s %s %d, want %s %s %d", tt.ref, desc.MediaType, desc.Digest, desc.Size,
					tt.want.MediaType, tt.want.Digest, tt.want.Size)
			}
			if !bytes.Equal(body, tt.body) {
				t.Errorf("Resolve(%s): body differs from what was pushed", tt.ref)
			}
			if ref.Context().RegistryStr() != reg.Host {
				t.Errorf("Resolve(%s): got registry %s, want %s", tt.ref, ref.Context().RegistryStr(), reg.Host)
			}
		}
	})

	t.Run("index", func(t *testing.T) {
		ref, _, body, err := c.Resolve(ctx, reg.Ref("fixtures/multi", ":v1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			p    ocispec.Platform
			want *testimage.Image
		}{
			{ocispec.Platform{OS: "linux", Architecture: "amd64"}, amd},
			{ocispec.Platform{Architecture: "arm64"}, arm64},
			{ocispec.Platform{Architecture: "arm", Variant: "v7"}, armv6},
		} {
			desc, err := SelectPlatform(body, tt.p)
			if err != nil {
				t.Fatalf("SelectPlatform(%s): %v", FormatPlatform(tt.p), err)
			}
			if desc.Digest != tt.want.Manifest.Digest {
				t.Fatalf("SelectPlatform(%s): got %s, want %s", FormatPlatform(tt.p), desc.Digest, tt.want.Manifest.Digest)
			}
			m, err := c.FetchManifest(ctx, ref.Context(), desc)
			if err != nil {
				t.Fatalf("FetchManifest: %v", err)
			}
			if !bytes.Equal(m, tt.want.ManifestBytes) {
				t.Fatalf("FetchManifest(%s): body differs", desc.Digest)
			}
			cfg, err := c.FetchBlob(ctx, ref.Context(), tt.want.Config)
			if err != nil {
				t.Fatalf("FetchBlob(config): %v", err)
			}
			if !bytes.Equal(cfg, tt.want.ConfigBytes) {
				t.Fatalf("FetchBlob(%s): body differs", tt.want.Config.Digest)
			}
		}
		_, err = SelectPlatform(body, ocispec.Platform{OS: "linux", Architecture: "s390x"})
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "linux/arm64/v8") {
			t.Fatalf("SelectPlatform(s390x): got %v, want not found listing linux/arm64/v8", err)
		}
	})

	t.Run("blobs", func(t *testing.T) {
		repo := repoOf(t, reg.Ref("fixtures/app", ""))
		for _, l := range img.Layers {
			if got := readBlob(t, c, repo, l, 0); !bytes.Equal(got, img.Blobs[l.Digest]) {
				t.Fatalf("BlobReader(%s): content differs", l.Digest)
			}
			if got := readBlob(t, c, repo, l, 7); !bytes.Equal(got, img.Blobs[l.Digest][7:]) {
				t.Fatalf("BlobReader(%s, 7): content differs", l.Digest)
			}
		}
	})

	t.Run("not found", func(t *testing.T) {
		ref := reg.Ref("fixtures/app", ":missing")
		_, _, _, err := c.Resolve(ctx, ref)
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), ref) {
			t.Fatalf("Resolve(%s): got %v, want not found naming the reference", ref, err)
		}
		ref = reg.Ref("no/such/repo", ":v1")
		if _, _, _, err = c.Resolve(ctx, ref); !errdefs.IsNotFound(err) {
			t.Fatalf("Resolve(%s): got %v, want not found", ref, err)
		}
		repo := repoOf(t, reg.Ref("fixtures/app", ""))
		missing := ocispec.Descriptor{Digest: digest.FromString("missing"), Size: 7}
		if _, err := c.FetchBlob(ctx, repo, missing); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), missing.Digest.String()) {
			t.Fatalf("FetchBlob(missing): got %v, want not found naming the digest", err)
		}
		if _, err := c.BlobReader(ctx, repo, missing, 0); !errdefs.IsNotFound(err) {
			t.Fatalf("BlobReader(missing): got %v, want not found", err)
		}
	})

	if mode != testregistry.AuthNone {
		t.Run("credentials", func(t *testing.T) {
			testCredentials(t, reg, c)
		})
	}

	t.Run("push", func(t *testing.T) {
		testPush(t, reg, c)
	})
}

func testCredentials(t *testing.T, reg *testregistry.Registry, good *Client) {
	ctx := ctxFor(t)
	ref := reg.Ref("fixtures/app", ":v1")
	bad := clientFor(t, reg, Options{ConfigPath: writeConfig(t, reg.Host, reg.User, "wrong")})
	if _, _, _, err := bad.Resolve(ctx, ref); !errdefs.IsUnauthorized(err) {
		t.Errorf("Resolve with a wrong password: got %v, want unauthenticated", err)
	}
	anon := clientFor(t, reg, Options{ConfigPath: filepath.Join(t.TempDir(), "none.json")})
	if _, _, _, err := anon.Resolve(ctx, ref); !errdefs.IsUnauthorized(err) || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("anonymous Resolve: got %v, want unauthenticated saying there were no credentials", err)
	}
	if err := good.Login(ctx, reg.Host, reg.User, reg.Password); err != nil {
		t.Errorf("Login with the right password: %v", err)
	}
	err := good.Login(ctx, reg.Host, reg.User, "wrong")
	if !errdefs.IsUnauthorized(err) || !strings.Contains(err.Error(), reg.Host) {
		t.Errorf("Login with a wrong password: got %v, want unauthenticated naming the host", err)
	}
}

func testPush(t *testing.T, reg *testregistry.Registry, c *Client) {
	ctx := ctxFor(t)
	big := make([]byte, 300<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	img := testimage.Build(t, testimage.Spec{Layers: []testimage.Layer{
		{Compression: testimage.Zstd, Files: []testimage.File{{Name: "small", Data: []byte("pushed by berth " + reg.Auth.String())}}},
		{Compression: testimage.Uncompressed, Files: []testimage.File{{Name: "big", Data: big}}},
	}})
	blobs := []ocispec.Descriptor{img.Config, img.Layers[0], img.Layers[1]}

	push := func(t *testing.T, ref string, opts PushOptions) map[digest.Digest]string {
		t.Helper()
		var log progressLog
		opts.Progress = log.record
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Push(ctx, r, img.Manifest, img.ManifestBytes, img.Blobs.Open, opts); err != nil {
			t.Fatalf("Push(%s): %v", ref, err)
		}
		root, got := testimage.Pull(t, ref, reg.Creds())
		if root.Digest != img.Manifest.Digest {
			t.Fatalf("skopeo reads %s as %s, want %s", ref, root.Digest, img.Manifest.Digest)
		}
		for _, b := range blobs {
			if !bytes.Equal(got[b.Digest], img.Blobs[b.Digest]) {
				t.Fatalf("skopeo reads blob %s of %s: content differs", b.Digest, ref)
			}
		}
		return log.statuses()
	}
	wantAll := func(t *testing.T, got map[digest.Digest]string, want string) {
		t.Helper()
		for _, b := range blobs {
			if got[b.Digest] != want {
				t.Errorf("blob %s: got status %q, want %q", b.Digest, got[b.Digest], want)
			}
		}
	}

	first := reg.Ref("pushed/app", ":v1")
	wantAll(t, push(t, first, PushOptions{}), StatusPushed)
	// Again under another tag: every blob is there (HEAD), nothing uploads.
	wantAll(t, push(t, reg.Ref("pushed/app", ":v2"), PushOptions{}), StatusExists)
	// Into another repository, mounting from the first.
	from := map[digest.Digest][]string{}
	for _, b := range blobs {
		from[b.Digest] = []string{reg.Ref("pushed/app", "")}
	}
	wantAll(t, push(t, reg.Ref("mounted/app", ":v1"), PushOptions{MountFrom: from}), StatusMounted+"pushed/app")
	// A source that lacks the blobs: the registry refuses the mount and
	// opens an upload session instead, which the push uses.
	nowhere := map[digest.Digest][]string{}
	for _, b := range blobs {
		nowhere[b.Digest] = []string{reg.Ref("no/such/source", "")}
	}
	wantAll(t, push(t, reg.Ref("mountfail/app", ":v1"), PushOptions{MountFrom: nowhere}), StatusPushed)
	// In chunks, by digest.
	wantAll(t, push(t, reg.Ref("chunked/app", "@"+img.Manifest.Digest.String()), PushOptions{ChunkSize: 64 << 10}), StatusPushed)

	t.Run("index", func(t *testing.T) {
		a := platformImage(t, "linux", "amd64", "", "push-"+reg.Auth.String())
		b := platformImage(t, "linux", "arm64", "v8", "push-"+reg.Auth.String())
		idx := testimage.NewIndex(t, true, a, b)
		ref := reg.Ref("pushed/multi", ":v1")
		r, _ := name.ParseReference(ref)
		if err := c.Push(ctx, r, idx.Desc, idx.Bytes, idx.Blobs.Open, PushOptions{}); err != nil {
			t.Fatalf("Push(index): %v", err)
		}
		root, got := testimage.Pull(t, ref, reg.Creds())
		if root.Digest != idx.Desc.Digest {
			t.Fatalf("skopeo reads %s as %s, want %s", ref, root.Digest, idx.Desc.Digest)
		}
		for d, want := range idx.Blobs {
			if !bytes.Equal(got[d], want) {
				t.Fatalf("skopeo reads %s of %s: content differs", d, ref)
			}
		}
	})
}
