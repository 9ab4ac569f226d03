package registry

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Decoders of registry answers get hostile input: a clear error, never a
// panic. Seeds live in testdata/fuzz/. config.json's decoder has its fuzz
// target in internal/dockerconfig.

func FuzzManifestType(f *testing.F) {
	f.Add(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"config":{},"layers":[]}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		mt, err := manifestType(ct, body)
		if err == nil && !IsIndex(mt) && !IsManifest(mt) {
			t.Fatalf("manifestType accepted media type %q", mt)
		}
	})
}

func FuzzSelectPlatform(f *testing.F) {
	f.Add([]byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}`), "amd64", "")
	f.Fuzz(func(t *testing.T, index []byte, arch, variant string) {
		d, err := SelectPlatform(index, ocispec.Platform{OS: "linux", Architecture: arch, Variant: variant})
		if err == nil && (d.Digest.Validate() != nil || d.Size < 0 || d.Size > MaxManifestSize) {
			t.Fatalf("SelectPlatform returned an invalid descriptor %+v", d)
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 0-9/10")
	f.Fuzz(func(t *testing.T, s string) {
		start, end, total, err := parseContentRange(s)
		if err == nil && (start < 0 || end < start || total != -1 && total <= end) {
			t.Fatalf("parseContentRange(%q) = %d %d %d", s, start, end, total)
		}
	})
}
