package exchange

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImportConfig says how Import makes an image of a rootfs tar.
type ImportConfig struct {
	// Changes are `docker import --change` instructions (see ApplyChanges).
	Changes []string
	// Platform is the image's platform; the zero value means this host's.
	Platform ocispec.Platform
	// Message is the comment of the image's history entry.
	Message string
	// Created is the image's creation time; the zero value means now.
	Created time.Time
}

// Import makes a one-layer image of a rootfs tar (uncompressed, or gzip-,
// zstd- or bzip2-compressed), as `docker import` does, and stores its
// layer, config and manifest through ing. The layer is stored
// gzip-compressed so the image can be pushed as it is; its diff_id is the
// digest of the tar as given. The tar is read once, as a stream, and must
// be a well-formed tar. Import returns the OCI manifest's descriptor.
func Import(ctx context.Context, r io.Reader, ing Ingester, cfg ImportConfig) (ocispec.Descriptor, error) {
	var conf ocispec.ImageConfig
	if err := ApplyChanges(&conf, cfg.Changes); err != nil {
		return ocispec.Descriptor{}, err
	}
	src, _, err := autoDecompress(r)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("import: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	defer src.Close()
	layer, diffID, err := importLayer(ctx, src, ing)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	created := cfg.Created.UTC()
	if cfg.Created.IsZero() {
		created = time.Now().UTC()
	}
	plat := cfg.Platform
	if plat.OS == "" {
		plat.OS = runtime.GOOS
	}
	if plat.Architecture == "" {
		plat.Architecture = runtime.GOARCH
	}
	comment := cfg.Message
	if comment == "" {
		comment = "imported from a tar stream"
	}
	img := ocispec.Image{
		Created:  &created,
		Platform: plat,
		Config:   conf,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History:  []ocispec.History{{Created: &created, CreatedBy: "berth import", Comment: comment}},
	}
	cdesc, err := storeJSON(ctx, ing, ocispec.MediaTypeImageConfig, img)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mdesc, err := storeJSON(ctx, ing, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cdesc,
		Layers:    []ocispec.Descriptor{layer},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mdesc.Platform = &plat
	return mdesc, nil
}

// importLayer stores the tar read from src gzip-compressed, checking as
// it passes that it is a tar, and returns the layer's descriptor and
// diff_id.
func importLayer(ctx context.Context, src io.Reader, ing Ingester) (ocispec.Descriptor, digest.Digest, error) {
	pr, pw := io.Pipe()
	diff := digest.SHA256.Digester()
	done := make(chan error, 1)
	go func() {
		zw := gzip.NewWriter(pw)
		err := checkTar(io.TeeReader(src, io.MultiWriter(diff.Hash(), zw)))
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err) // nil closes it cleanly
		done <- err
	}()
	desc, err := ing.Ingest(ctx, pr, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip})
	stopped := errors.New("the store stopped reading the layer")
	pr.CloseWithError(stopped)
	terr := <-done
	switch {
	case terr != nil && !errors.Is(terr, stopped):
		return desc, "", terr // the input's fault, which the store saw only as a broken stream
	case err != nil:
		return desc, "", fmt.Errorf("store imported layer: %w", err)
	case terr != nil:
		return desc, "", fmt.Errorf("store imported layer: %w", terr)
	}
	desc.MediaType = ocispec.MediaTypeImageLayerGzip
	return desc, diff.Digest(), nil
}

// checkTar reads r to its end, failing unless it is a tar archive.
func checkTar(r io.Reader) error {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("import: input is not a tar archive: %w: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	// Keep the padding after the end marker: the layer is the input as given.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fmt.Errorf("import: read input: %w", err)
	}
	if cr.n == 0 {
		return fmt.Errorf("import: input is empty: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// storeJSON marshals v and stores it under its digest.
func storeJSON(ctx context.Context, ing Ingester, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if _, err := ing.Ingest(ctx, bytes.NewReader(data), desc); err != nil && !errdefs.IsAlreadyExists(err) {
		return ocispec.Descriptor{}, fmt.Errorf("store %s %s: %w", mediaType, desc.Digest, err)
	}
	return desc, nil
}
