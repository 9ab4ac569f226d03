package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestImport(t *testing.T) {
	rootfs := busyboxLayer(t)
	// A tar with padding after its end marker, as tar(1) writes records:
	// the padding is part of the layer as given.
	padded := append(append([]byte{}, rootfs...), make([]byte, 10240)...)
	created := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		input []byte
		tar   []byte
	}{
		{"uncompressed", rootfs, rootfs},
		{"gzip", compressBytes(t, rootfs, compGzip), rootfs},
		{"zstd", compressBytes(t, rootfs, compZstd), rootfs},
		{"padded", padded, padded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore()
			desc, err := Import(context.Background(), bytes.NewReader(tt.input), s, ImportConfig{
				Changes:  []string{`CMD ["/bin/sh"]`, `ENV PATH=/bin`, `WORKDIR /tmp`, `EXPOSE 8080`},
				Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
				Message:  "from a test",
				Created:  created,
			})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if desc.MediaType != ocispec.MediaTypeImageManifest || desc.Platform == nil || desc.Platform.Architecture != "arm64" {
				t.Errorf("got descriptor %+v, want an OCI manifest for linux/arm64", desc)
			}
			m := manifestOf(t, s, desc)
			if len(m.Layers) != 1 || m.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
				t.Fatalf("got layers %+v, want one gzip layer", m.Layers)
			}
			blob, _ := s.get(m.Layers[0].Digest)
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(zr); !bytes.Equal(got, tt.tar) {
				t.Errorf("the stored layer does not decompress to the input tar")
			}
			cfgData, _ := s.get(m.Config.Digest)
			var img ocispec.Image
			if err := json.Unmarshal(cfgData, &img); err != nil {
				t.Fatal(err)
			}
			if want := []digest.Digest{digest.FromBytes(tt.tar)}; !slices.Equal(img.RootFS.DiffIDs, want) || img.RootFS.Type != "layers" {
				t.Errorf("got rootfs %+v, want diff_ids %v", img.RootFS, want)
			}
			if img.Created == nil || !img.Created.Equal(created) || len(img.History) != 1 || img.History[0].Comment != "from a test" {
				t.Errorf("got created %v and history %+v, want %v and one entry with the message", img.Created, img.History, created)
			}
			if img.Architecture != "arm64" || img.Variant != "v8" || img.OS != "linux" {
				t.Errorf("got platform %s/%s/%s, want linux/arm64/v8", img.OS, img.Architecture, img.Variant)
			}
			if !slices.Equal(img.Config.Cmd, []string{"/bin/sh"}) || img.Config.WorkingDir != "/tmp" || !slices.Equal(img.Config.Env, []string{"PATH=/bin"}) {
				t.Errorf("got config %+v, want the changes applied", img.Config)
			}
			if _, ok := img.Config.ExposedPorts["8080/tcp"]; !ok {
				t.Errorf("got exposed ports %v, want 8080/tcp", img.Config.ExposedPorts)
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		changes []string
	}{
		{"not a tar", bytes.Repeat([]byte("junk"), 300), nil},
		{"empty", nil, nil},
		{"broken gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0}, nil},
		{"truncated tar", busyboxLayer(t)[:5000], nil},
		{"bad change", fileLayer(t, "f", "x"), []string{"RUN true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore()
			_, err := Import(context.Background(), bytes.NewReader(tt.input), s, ImportConfig{Changes: tt.changes})
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("got error %v, want invalid argument", err)
			}
			if s.len() != 0 {
				t.Errorf("got %d blobs stored, want none", s.len())
			}
		})
	}
}
