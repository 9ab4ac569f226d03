package registry

import (
	"context"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPushChecksItsInput checks what Push refuses before any request.
func TestPushChecksItsInput(t *testing.T) {
	body := []byte(`{"schemaVersion":2}`)
	root := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body), Size: int64(len(body))}
	c := New(Options{})
	tag, _ := name.ParseReference("registry.invalid/app:v1")
	other, _ := name.ParseReference("registry.invalid/app@" + digest.FromString("other").String())
	tests := []struct {
		name string
		ref  name.Reference
		root ocispec.Descriptor
		body []byte
	}{
		{"body differs from root", tag, root, []byte(`{}`)},
		{"size differs", tag, ocispec.Descriptor{MediaType: root.MediaType, Digest: root.Digest, Size: 3}, body},
		{"digest reference differs", other, root, body},
	}
	for _, tt := range tests {
		err := c.Push(context.Background(), tt.ref, tt.root, tt.body, nil, PushOptions{})
		if !errdefs.IsInvalidArgument(err) && !errdefs.IsDataLoss(err) {
			t.Errorf("%s: got %v, want a refusal", tt.name, err)
		}
	}
}
