package testimage

import (
	"bytes"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testregistry"
)

func TestBuildIsDeterministic(t *testing.T) {
	a, b := Small(t, "x", Zstd, false), Small(t, "x", Zstd, false)
	if a.Manifest.Digest != b.Manifest.Digest {
		t.Fatalf("two builds of one spec: got %s and %s, want equal digests", a.Manifest.Digest, b.Manifest.Digest)
	}
	if c := Small(t, "y", Zstd, false); c.Manifest.Digest == a.Manifest.Digest {
		t.Fatalf("builds of different specs share digest %s", c.Manifest.Digest)
	}
}

// TestSkopeoRoundTrip pushes images and an index with skopeo and reads them
// back: skopeo must keep every digest.
func TestSkopeoRoundTrip(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Auth: testregistry.AuthBasic})
	tests := []struct {
		name string
		root ocispec.Descriptor
		bs   Blobs
	}{}
	for _, c := range []struct {
		name   string
		comp   Compression
		docker bool
	}{{"gzip-oci", Gzip, false}, {"zstd-oci", Zstd, false}, {"plain-oci", Uncompressed, false}, {"gzip-docker", Gzip, true}} {
		img := Small(t, c.name, c.comp, c.docker)
		tests = append(tests, struct {
			name string
			root ocispec.Descriptor
			bs   Blobs
		}{c.name, img.Manifest, img.Blobs})
	}
	amd := Build(t, Spec{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Layers: []Layer{{Files: []File{{Name: "a", Data: []byte("amd64")}}}}})
	arm := Build(t, Spec{Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, Layers: []Layer{{Files: []File{{Name: "a", Data: []byte("arm64")}}}}})
	idx := NewIndex(t, false, amd, arm)
	tests = append(tests, struct {
		name string
		root ocispec.Descriptor
		bs   Blobs
	}{"index", idx.Desc, idx.Blobs})
	amdD := Build(t, Spec{Docker: true, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Layers: []Layer{{Files: []File{{Name: "a", Data: []byte("amd64")}}}}})
	armD := Build(t, Spec{Docker: true, Platform: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, Layers: []Layer{{Files: []File{{Name: "a", Data: []byte("arm")}}}}})
	list := NewIndex(t, true, amdD, armD)
	tests = append(tests, struct {
		name string
		root ocispec.Descriptor
		bs   Blobs
	}{"manifest-list", list.Desc, list.Blobs})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := reg.Ref("roundtrip/"+tt.name, ":v1")
			Push(t, tt.root, tt.bs, ref, reg.Creds())
			root, got := Pull(t, ref, reg.Creds())
			if root.Digest != tt.root.Digest {
				t.Fatalf("root digest: got %s, want %s", root.Digest, tt.root.Digest)
			}
			for d, b := range tt.bs {
				if !bytes.Equal(got[d], b) {
					t.Errorf("blob %s: not read back unchanged", d)
				}
			}
		})
	}
}
