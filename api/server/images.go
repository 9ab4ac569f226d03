package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/snapshot"
)

// ImageService is what the image routes ask of the image service
// (image.Service).
type ImageService interface {
	Pull(ctx context.Context, ref string, opts image.PullOptions) (image.Named, error)
	Push(ctx context.Context, ref string, progress func(image.Progress)) (ocispec.Descriptor, error)
	Save(ctx context.Context, w io.Writer, refs []string) error
	Load(ctx context.Context, r io.Reader, progress func(image.Progress)) ([]image.Named, error)
	Import(ctx context.Context, r io.Reader, opts image.ImportOptions) (image.Named, error)
	GC(ctx context.Context) (image.GCResult, error)
	DiskUsage(ctx context.Context) (image.Usage, error)
}

// ImageStore holds the image records and their names (image.Store).
type ImageStore interface {
	Get(ctx context.Context, ref string) (image.Named, error)
	List(ctx context.Context) ([]image.Named, error)
	Tag(ctx context.Context, id digest.Digest, name string) error
	Untag(ctx context.Context, name string) (digest.Digest, error)
	Delete(ctx context.Context, id digest.Digest) error
}

// BlobReader opens committed blobs (content.Store): image configs.
type BlobReader interface {
	ReaderAt(ctx context.Context, dgst digest.Digest) (*content.Reader, error)
}

// LayerSizer measures a layer snapshot (snapshot.Snapshotter).
type LayerSizer interface {
	Usage(ctx context.Context, key string) (snapshot.Usage, error)
}

// ImageUser is a container using an image.
type ImageUser struct {
	ID      string
	Running bool
}

// ImageUsers finds the containers using an image, so that deleting an
// image a container needs is refused as dockerd refuses it. Until the
// container service exists there are none.
type ImageUsers interface {
	ContainersUsing(ctx context.Context, id digest.Digest) ([]ImageUser, error)
}

// Images is the backend of the image routes.
type Images struct {
	Service ImageService
	Store   ImageStore
	Blobs   BlobReader
	Layers  LayerSizer
	Events  EventPublisher
	Users   ImageUsers // nil: no containers yet
	// Driver names the storage driver in GraphDriver ("overlayfs").
	Driver string
	// PullConcurrency is how many layers a pull fetches at once.
	PullConcurrency int
}

// imageRouter answers the image routes over its backend.
type imageRouter struct {
	Images
}

// AddImages adds the /images routes and their events.
func (s *Server) AddImages(b Images) {
	ir := &imageRouter{b}
	s.handle("GET /images/json", ir.list)
	s.handle("POST /images/create", ir.create)
	s.handle("POST /images/load", ir.load)
	s.handle("GET /images/get", ir.save)
	s.handle("POST /images/prune", ir.prune)
	s.handle("GET /images/search", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(errdefs.ErrNotImplemented, "searching registries is not supported")
	})
	// Image names hold slashes (127.0.0.1:5000/app:v1), so the name is
	// the path up to the route's last segment.
	s.handle("GET /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		name, verb := splitImagePath(r.PathValue("rest"))
		switch verb {
		case "json":
			return ir.inspect(w, r, name)
		case "history":
			return ir.history(w, r, name)
		case "get":
			return ir.saveOne(w, r, name)
		}
		return errorf(errdefs.ErrNotFound, "page not found")
	})
	s.handle("POST /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		name, verb := splitImagePath(r.PathValue("rest"))
		switch verb {
		case "tag":
			return ir.tag(w, r, name)
		case "push":
			return ir.push(w, r, name)
		}
		return errorf(errdefs.ErrNotFound, "page not found")
	})
	s.handle("DELETE /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		return ir.remove(w, r, r.PathValue("rest"))
	})
}

// splitImagePath splits "NAME/VERB" at the last slash.
func splitImagePath(rest string) (name, verb string) {
	i := strings.LastIndex(rest, "/")
	if i <= 0 {
		return "", ""
	}
	return rest[:i], rest[i+1:]
}

// withTag parses name and, when tag is given, replaces its tag (or
// digest, when tag is one) as dockerd does with the "tag" parameter of
// pull, push and import.
func withTag(name, tag string) (image.Reference, error) {
	ref, err := image.ParseReference(name)
	if err != nil || tag == "" {
		return ref, err
	}
	if strings.Contains(tag, ":") {
		ref.Tag, ref.Digest = "", tag
	} else {
		ref.Tag, ref.Digest = tag, ""
	}
	return image.ParseReference(ref.String())
}

// get finds an image by name or ID, answering a miss as dockerd does.
func (ir *imageRouter) get(ctx context.Context, ref string) (image.Named, error) {
	if ref == "" {
		return image.Named{}, errorf(errdefs.ErrInvalidArgument, "image name is empty")
	}
	if !looksLikeID(ref) {
		if _, err := image.ParseReference(ref); err != nil && !isHex(ref) {
			return image.Named{}, err
		}
	}
	img, err := ir.Store.Get(ctx, ref)
	if err != nil {
		return image.Named{}, noSuchImage(err, ref)
	}
	return img, nil
}

// noSuchImage words a missing image as dockerd: "No such image:
// busybox:latest" for a name, the ID as given for an ID.
func noSuchImage(err error, ref string) error {
	if !errdefs.IsNotFound(err) {
		return err
	}
	name := ref
	if !looksLikeID(ref) {
		if r, perr := image.ParseReference(ref); perr == nil {
			name = r.Familiar()
		}
	}
	return withMessage(err, "No such image: "+name)
}

// looksLikeID reports whether ref can only be an image ID: sha256:HEX or
// 64 hex digits.
func looksLikeID(ref string) bool {
	if h, ok := strings.CutPrefix(ref, "sha256:"); ok {
		return isHex(h)
	}
	return len(ref) == 64 && isHex(ref)
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

// isIDRef reports whether ref names the image id by ID (or ID prefix)
// rather than by a reference.
func isIDRef(ref string, id digest.Digest) bool {
	h := strings.TrimPrefix(ref, "sha256:")
	return isHex(h) && strings.HasPrefix(id.Encoded(), h)
}

// maxConfig bounds an image config read into memory.
const maxConfig = 8 << 20

// imageConfig is an image's config as Docker's tools read it.
type imageConfig struct {
	dockerspec.DockerOCIImage
	Comment string `json:"comment,omitempty"`
}

// config reads and decodes an image's config blob.
func (ir *imageRouter) config(ctx context.Context, img image.Named) (imageConfig, error) {
	var c imageConfig
	rd, err := ir.Blobs.ReaderAt(ctx, img.Config.Digest)
	if err != nil {
		return c, fmt.Errorf("config of image %s: %w", img.ID, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, maxConfig))
	if err != nil {
		return c, fmt.Errorf("read config of image %s: %w", img.ID, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("decode config of image %s: %v: %w", img.ID, err, errdefs.ErrDataLoss)
	}
	return c, nil
}

// names splits an image's references into Docker's RepoTags and
// RepoDigests, in familiar form.
func names(img image.Named) (tags, digests []string) {
	tags, digests = []string{}, []string{}
	for _, n := range img.Names {
		r, err := image.ParseReference(n)
		if err != nil {
			continue
		}
		if r.Digest != "" {
			digests = append(digests, image.Familiar(r.Repository)+"@"+r.Digest)
		} else {
			tags = append(tags, r.Familiar())
		}
	}
	return tags, digests
}

// publish records an image event; labels of the image go with it as
// attributes, as in dockerd.
func (ir *imageRouter) publish(action events.Action, id, name string, labels map[string]string) {
	if ir.Events == nil {
		return
	}
	attrs := map[string]string{}
	for k, v := range labels {
		attrs[k] = v
	}
	attrs["name"] = name
	ir.Events.Publish(events.Message{Type: events.ImageEventType, Action: action, Actor: events.Actor{ID: id, Attributes: attrs}})
}

// labelsOf returns an image's labels, nil when its config cannot be read.
func (ir *imageRouter) labelsOf(ctx context.Context, img image.Named) map[string]string {
	c, err := ir.config(ctx, img)
	if err != nil {
		return nil
	}
	return c.Config.Labels
}
