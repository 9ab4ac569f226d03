package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// emptyTarSize is the size of a tar with no entries: its end marker,
// two zero blocks. A commit that changed nothing adds a history entry
// and no layer, as Docker does.
const emptyTarSize = 1024

// errStoreStopped ends the writing of a layer the store no longer reads.
var errStoreStopped = errors.New("the store stopped reading the layer")

// CommitOptions say how Commit makes an image of a container's layer.
type CommitOptions struct {
	// Parent is the image the container was created from; empty for
	// none.
	Parent digest.Digest
	// Config is the new image's config, complete (the caller merged the
	// container's config and applied changes).
	Config dockerspec.DockerOCIImageConfig
	// Author, Comment and CreatedBy go to the image and its new history
	// entry.
	Author, Comment, CreatedBy string
	// Ref names the image; empty: none.
	Ref string
	// Layer writes the layer as an uncompressed tar (archive.Diff of the
	// container's upper directory).
	Layer func(ctx context.Context, w io.Writer) error
}

// Commit makes an image of a container's layer on top of its parent
// image, as `docker commit` does: the layer is stored gzip-compressed
// (as Import does, so that push and save send it as it is and
// registries that refuse uncompressed layers take it); the config is the
// parent's with the new config, a history entry and the layer's diff ID;
// the manifest has the parent's kind (Docker schema 2 or OCI). The layer
// is applied to a snapshot as it is written, and the snapshot committed
// under the layer's chain ID, so running the new image needs no unpack;
// the container's own layer cannot serve, as the container keeps using
// it.
func (s *Service) Commit(ctx context.Context, o CommitOptions) (Named, error) {
	return s.addImage(ctx, "commit", o.Ref, func(l *Lease) (ocispec.Descriptor, error) { return s.commit(ctx, l, o) })
}

// commit stores the layer, config and manifest of a commit and returns
// the manifest's descriptor.
func (s *Service) commit(ctx context.Context, lease *Lease, o CommitOptions) (_ ocispec.Descriptor, err error) {
	cfg := dockerspec.DockerOCIImage{}
	var parent Named
	if o.Parent != "" {
		var err error
		if parent, err = s.Store.Get(ctx, o.Parent.String()); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("parent image: %w", err)
		}
		raw, err := s.readBlob(ctx, parent.Config)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("parent image: %w", err)
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("parent config %s: %v: %w", parent.Config.Digest, err, errdefs.ErrDataLoss)
		}
	} else {
		cfg.Platform = DefaultPlatform()
	}
	docker := parent.Manifest.MediaType == mediaTypeDockerManifest
	st, err := s.stage(ctx, lease, parent)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer func() {
		if err != nil {
			st.discard(ctx)
		}
	}()
	layer, diffID, err := s.storeDiff(ctx, o.Layer, docker, st)
	if err = st.finish(err); err != nil {
		return ocispec.Descriptor{}, err
	}
	created := time.Now().UTC()
	cfg.Created, cfg.Author, cfg.Config = &created, o.Author, o.Config
	h := ocispec.History{Created: &created, Author: o.Author, CreatedBy: o.CreatedBy, Comment: o.Comment}
	layers := append([]ocispec.Descriptor{}, parent.Layers...)
	cfg.RootFS.Type = "layers"
	if diffID == digest.FromBytes(make([]byte, emptyTarSize)) {
		h.EmptyLayer = true
		st.discard(ctx)
	} else {
		cfg.RootFS.DiffIDs = append(append([]digest.Digest{}, parent.DiffIDs...), diffID)
		layers = append(layers, layer)
		if err := st.commit(ctx, cfg.RootFS.DiffIDs); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	cfg.History = append(cfg.History, h)
	mt, cmt := ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig
	if docker {
		mt, cmt = mediaTypeDockerManifest, mediaTypeDockerConfig
	}
	cdesc, err := s.putJSON(ctx, cmt, cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.putJSON(ctx, mt, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: mt, Config: cdesc, Layers: layers,
	})
}

// storeDiff stores the tar that write produces, gzip-compressed, and
// returns its descriptor and diff ID; the tar goes to also as well.
func (s *Service) storeDiff(ctx context.Context, write func(context.Context, io.Writer) error, docker bool, also io.Writer) (ocispec.Descriptor, digest.Digest, error) {
	mt := ocispec.MediaTypeImageLayerGzip
	if docker {
		mt = mediaTypeDockerLayer
	}
	pr, pw := io.Pipe()
	diff := digest.Canonical.Digester()
	done := make(chan error, 1)
	go func() {
		zw := gzip.NewWriter(pw)
		err := write(ctx, io.MultiWriter(diff.Hash(), also, zw))
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	desc, err := blobs{s.content}.Ingest(ctx, pr, ocispec.Descriptor{MediaType: mt})
	pr.CloseWithError(errStoreStopped)
	// A writer cut off by the store's failure reports errStoreStopped:
	// the store's error says why.
	if werr := <-done; werr != nil && (err == nil || !errors.Is(werr, errStoreStopped)) {
		return desc, "", fmt.Errorf("write layer: %w", werr)
	}
	if err != nil {
		return desc, "", fmt.Errorf("store layer: %w", err)
	}
	desc.MediaType = mt
	return desc, diff.Digest(), nil
}

// putJSON stores v as a blob of media type mt.
func (s *Service) putJSON(ctx context.Context, mt string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.putBlob(ctx, desc, data); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}
