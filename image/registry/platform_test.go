package registry

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func indexOf(t *testing.T, platforms ...string) ([]byte, map[string]digest.Digest) {
	t.Helper()
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	ids := map[string]digest.Digest{}
	for _, p := range platforms {
		parts := strings.Split(p, "/")
		pl := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) > 2 {
			pl.Variant = parts[2]
		}
		d := digest.FromString(p)
		ids[p] = d
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: 100, Platform: &pl})
	}
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return b, ids
}

func TestSelectPlatform(t *testing.T) {
	tests := []struct {
		name  string
		index []string
		want  ocispec.Platform
		pick  string // "" means not found
	}{
		{"exact", []string{"linux/amd64", "linux/arm64/v8"}, ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "linux/arm64/v8"},
		{"arm64 default variant", []string{"linux/amd64", "linux/arm64"}, ocispec.Platform{Architecture: "arm64"}, "linux/arm64"},
		{"arm64 asks v8, index has none", []string{"linux/arm64"}, ocispec.Platform{Architecture: "arm64", Variant: "v8"}, "linux/arm64"},
		{"arm v7 prefers v7", []string{"linux/arm/v6", "linux/arm/v7", "linux/arm/v5"}, ocispec.Platform{Architecture: "arm", Variant: "v7"}, "linux/arm/v7"},
		{"arm v7 takes v6", []string{"linux/arm/v5", "linux/arm/v6"}, ocispec.Platform{Architecture: "arm", Variant: "v7"}, "linux/arm/v6"},
		{"arm v6 refuses v7", []string{"linux/arm/v7"}, ocispec.Platform{Architecture: "arm", Variant: "v6"}, ""},
		{"alias x86_64", []string{"linux/amd64"}, ocispec.Platform{Architecture: "x86_64"}, "linux/amd64"},
		{"alias in index", []string{"linux/aarch64"}, ocispec.Platform{Architecture: "arm64"}, "linux/aarch64"},
		{"os differs", []string{"windows/amd64"}, ocispec.Platform{Architecture: "amd64"}, ""},
		{"attestations skipped", []string{"unknown/unknown", "linux/amd64"}, ocispec.Platform{Architecture: "amd64"}, "linux/amd64"},
		{"host default", []string{"linux/" + runtime.GOARCH, "linux/s390x"}, ocispec.Platform{}, "linux/" + runtime.GOARCH},
		{"empty index", nil, ocispec.Platform{Architecture: "amd64"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ids := indexOf(t, tt.index...)
			got, err := SelectPlatform(b, tt.want)
			if tt.pick == "" {
				if !errdefs.IsNotFound(err) {
					t.Fatalf("got %v, %v; want not found", got.Digest, err)
				}
				for _, p := range tt.index {
					if !strings.Contains(err.Error(), p) && p != "unknown/unknown" {
						t.Errorf("error %q does not list %s", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != ids[tt.pick] {
				t.Fatalf("got %s, want the manifest of %s", got.Digest, tt.pick)
			}
		})
	}
}

func TestSelectPlatformBadIndex(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"manifests":{}}`,
		`{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:zz","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		`{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.FromString("x").String() + `","size":-1,"platform":{"os":"linux","architecture":"amd64"}}]}`,
	} {
		if _, err := SelectPlatform([]byte(in), ocispec.Platform{Architecture: "amd64"}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("SelectPlatform(%q): got %v, want invalid argument", in, err)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                string
		start, end, total int64
		ok                bool
	}{
		{"bytes 0-9/10", 0, 9, 10, true},
		{"bytes 100-199/*", 100, 199, -1, true},
		{"bytes 5-4/10", 0, 0, 0, false},
		{"bytes 0-9/9", 0, 0, 0, false},
		{"bytes -1-9/10", 0, 0, 0, false},
		{"items 0-9/10", 0, 0, 0, false},
		{"bytes 0-9", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		s, e, tot, err := parseContentRange(tt.in)
		if (err == nil) != tt.ok || tt.ok && (s != tt.start || e != tt.end || tot != tt.total) {
			t.Errorf("parseContentRange(%q): got %d %d %d %v, want %d %d %d ok=%v", tt.in, s, e, tot, err, tt.start, tt.end, tt.total, tt.ok)
		}
	}
}

func TestManifestType(t *testing.T) {
	oci := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`
	tests := []struct {
		ct, body, want string
		err            func(error) bool
	}{
		{ocispec.MediaTypeImageManifest, oci, ocispec.MediaTypeImageManifest, nil},
		{ocispec.MediaTypeImageManifest + "; charset=utf-8", oci, ocispec.MediaTypeImageManifest, nil},
		{"", `{"schemaVersion":2,"config":{},"layers":[]}`, ocispec.MediaTypeImageManifest, nil},
		{"", `{"schemaVersion":2,"manifests":[{}]}`, ocispec.MediaTypeImageIndex, nil},
		{MediaTypeDockerManifestList, `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifestList + `","manifests":[]}`, MediaTypeDockerManifestList, nil},
		{ocispec.MediaTypeImageIndex, oci, "", errdefs.IsInvalidArgument},
		{ocispec.MediaTypeImageManifest, `{"schemaVersion":3,"config":{}}`, "", errdefs.IsInvalidArgument},
		{ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"config":{},"manifests":[]}`, "", errdefs.IsInvalidArgument},
		{"application/json", `{"schemaVersion":1,"fsLayers":[]}`, "", errdefs.IsNotImplemented},
		{MediaTypeDockerSchema1, `not json`, "", errdefs.IsNotImplemented},
		{"", `{"schemaVersion":2}`, "", errdefs.IsNotImplemented},
		{"", `{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json"}`, "", errdefs.IsNotImplemented},
	}
	for _, tt := range tests {
		got, err := manifestType(tt.ct, []byte(tt.body))
		if tt.err != nil {
			if !tt.err(err) {
				t.Errorf("manifestType(%q, %s): got %q, %v; want a classified error", tt.ct, tt.body, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("manifestType(%q, %s): got %q, %v; want %q", tt.ct, tt.body, got, err, tt.want)
		}
	}
}
