package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Provider opens the content desc describes: manifests of an index, image
// configs and layers. It returns an error wrapping errdefs.ErrNotFound for
// content it does not have.
type Provider func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)

// PushOptions configure Push.
type PushOptions struct {
	// MountFrom lists, per blob digest, repositories on the same registry
	// ("host/path", as name.NewRepository parses them) known to hold the
	// blob; Push asks the registry to mount it from there instead of
	// uploading it. Repositories on other registries are ignored.
	MountFrom map[digest.Digest][]string
	// Progress, when set, receives each blob's progress. Calls are
	// serialised.
	Progress func(Progress)
	// ChunkSize, when positive, uploads blobs larger than it in PATCH
	// chunks of that size; otherwise each blob goes in one PUT.
	ChunkSize int64
	// Concurrency is how many blobs upload at once; 0 means 3.
	Concurrency int
}

// Progress is the state of one blob, as `docker push` shows it.
type Progress struct {
	Digest     digest.Digest
	Size, Done int64
	Status     string
}

// Progress statuses. A mount reports StatusMounted followed by the
// source repository.
const (
	StatusWaiting     = "Waiting"
	StatusDownloading = "Downloading"
	StatusPushing     = "Pushing"
	StatusExists      = "Layer already exists"
	StatusMounted     = "Mounted from "
	StatusPushed      = "Pushed"
	StatusForeign     = "Skipped foreign layer"
)

const maxIndexDepth = 4

// Push uploads the image or index root (whose bytes are rootBytes) to ref
// (a tag, or a digest that must be root's). Blobs come from p. Blobs and
// manifests the registry already has are skipped (HEAD), blobs listed in
// opts.MountFrom are mounted where the registry allows it, blobs upload
// concurrently, and manifests go last: an index's manifests before the
// index.
func (c *Client) Push(ctx context.Context, ref name.Reference, root ocispec.Descriptor, rootBytes []byte, p Provider, opts PushOptions) error {
	if err := verify(rootBytes, root.Digest, root.Size); err != nil {
		return fmt.Errorf("push %s: root %s: %w", ref, root.Digest, err)
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != root.Digest.String() {
		return fmt.Errorf("push %s: reference digest differs from the root's %s: %w", ref, root.Digest, errdefs.ErrInvalidArgument)
	}
	repo := ref.Context()
	ps := &pusher{c: c, provider: p, opts: opts, progress: opts.Progress,
		e: endpoint{host: repo.RegistryStr(), repo: repo.RepositoryStr()}}
	ps.mounts = mountSources(repo, opts.MountFrom)
	scopes := []string{"repository:" + ps.e.repo + ":push,pull"}
	for _, src := range uniqueSources(ps.mounts) {
		scopes = append(scopes, pullScope(src))
	}
	var err error
	if ps.rt, err = c.transport(ctx, ps.e.host, scopes); err != nil {
		return fmt.Errorf("push %s: %w", ref, c.authHint(ctx, ps.e.host, err))
	}
	plan := &pushPlan{seen: map[digest.Digest]bool{}}
	if err := ps.walk(ctx, plan, root, rootBytes, 0, true); err != nil {
		return fmt.Errorf("push %s: %w", ref, c.authHint(ctx, ps.e.host, err))
	}
	if err := ps.blobs(ctx, plan.blobs); err != nil {
		return fmt.Errorf("push %s: %w", ref, c.authHint(ctx, ps.e.host, err))
	}
	for _, m := range plan.manifests {
		tag := m.desc.Digest.String()
		if m.desc.Digest == root.Digest {
			tag = ref.Identifier()
		}
		if err := ps.putManifest(ctx, m.desc, m.body, tag); err != nil {
			return fmt.Errorf("push %s: manifest %s: %w", ref, m.desc.Digest, err)
		}
	}
	return nil
}

type pusher struct {
	c        *Client
	rt       http.RoundTripper
	e        endpoint
	provider Provider
	opts     PushOptions
	mounts   map[digest.Digest][]string

	mu       sync.Mutex
	progress func(Progress)
}

type pushPlan struct {
	blobs     []ocispec.Descriptor
	manifests []manifestPush // children before parents, root last
	seen      map[digest.Digest]bool
}

type manifestPush struct {
	desc ocispec.Descriptor
	body []byte
}

func (ps *pusher) report(p Progress) {
	if ps.progress == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.progress(p)
}

// walk adds a manifest's blobs (or an index's manifests, recursively) to
// the plan, then the manifest itself. A manifest below the root that the
// registry already has is skipped with everything under it: a registry
// accepts a manifest only once it has all its blobs.
func (ps *pusher) walk(ctx context.Context, plan *pushPlan, desc ocispec.Descriptor, body []byte, depth int, isRoot bool) error {
	if plan.seen[desc.Digest] {
		return nil
	}
	plan.seen[desc.Digest] = true
	if !isRoot {
		ok, err := ps.exists(ctx, "manifests", desc.Digest)
		if err != nil || ok {
			return err
		}
		if body, err = ps.readManifest(ctx, desc); err != nil {
			return err
		}
	}
	switch {
	case IsIndex(desc.MediaType):
		if depth >= maxIndexDepth {
			return fmt.Errorf("index %s nests more than %d levels: %w", desc.Digest, maxIndexDepth, errdefs.ErrInvalidArgument)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(body, &idx); err != nil {
			return fmt.Errorf("parse index %s: %w", desc.Digest, invalid(err))
		}
		for _, m := range idx.Manifests {
			if err := checkChild(m); err != nil {
				return fmt.Errorf("index %s: %w", desc.Digest, err)
			}
			if err := ps.walk(ctx, plan, m, nil, depth+1, false); err != nil {
				return err
			}
		}
	case IsManifest(desc.MediaType):
		var m ocispec.Manifest
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("parse manifest %s: %w", desc.Digest, invalid(err))
		}
		for _, b := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			if err := checkDescriptor(b, 1<<62); err != nil {
				return fmt.Errorf("manifest %s: %w", desc.Digest, err)
			}
			if !plan.seen[b.Digest] {
				plan.seen[b.Digest] = true
				plan.blobs = append(plan.blobs, b)
			}
		}
	default:
		return fmt.Errorf("cannot push %s of media type %q: %w", desc.Digest, desc.MediaType, errdefs.ErrNotImplemented)
	}
	plan.manifests = append(plan.manifests, manifestPush{desc: desc, body: body})
	return nil
}

func checkChild(d ocispec.Descriptor) error {
	if err := checkDescriptor(d, MaxManifestSize); err != nil {
		return err
	}
	if !IsIndex(d.MediaType) && !IsManifest(d.MediaType) {
		return fmt.Errorf("entry %s has media type %q: %w", d.Digest, d.MediaType, errdefs.ErrNotImplemented)
	}
	return nil
}

// readManifest reads a manifest from the provider, verified.
func (ps *pusher) readManifest(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	rc, err := ps.provider(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("open manifest %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	if err := verify(body, desc.Digest, desc.Size); err != nil {
		return nil, fmt.Errorf("manifest %s from the provider: %w", desc.Digest, err)
	}
	return body, nil
}

// exists asks the registry (HEAD) whether it has a blob or manifest.
func (ps *pusher) exists(ctx context.Context, kind string, d digest.Digest) (bool, error) {
	var found bool
	err := ps.c.retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, ps.c.url(ps.e, kind, d.String()), nil)
		if err != nil {
			return invalid(err)
		}
		if kind == "manifests" {
			req.Header.Set("Accept", acceptManifests)
		}
		resp, err := ps.c.do(ps.rt, req, http.StatusOK, http.StatusNotFound)
		if err != nil {
			return err
		}
		resp.Body.Close()
		found = resp.StatusCode == http.StatusOK
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check %s %s: %w", strings.TrimSuffix(kind, "s"), d, err)
	}
	return found, nil
}

// putManifest uploads a manifest under tag (a tag or its digest).
func (ps *pusher) putManifest(ctx context.Context, desc ocispec.Descriptor, body []byte, tag string) error {
	return ps.c.retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, ps.c.url(ps.e, "manifests", tag), bytes.NewReader(body))
		if err != nil {
			return invalid(err)
		}
		req.Header.Set("Content-Type", desc.MediaType)
		resp, err := ps.c.do(ps.rt, req, http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return checkDigestHeader(resp, desc.Digest)
	})
}

func checkDigestHeader(resp *http.Response, want digest.Digest) error {
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != want.String() {
		return fmt.Errorf("registry stored %s as %s: %w", want, h, errdefs.ErrDataLoss)
	}
	return nil
}

// blobs pushes every blob, several at once.
func (ps *pusher) blobs(ctx context.Context, blobs []ocispec.Descriptor) error {
	for _, b := range blobs {
		ps.report(Progress{Digest: b.Digest, Size: b.Size, Status: StatusWaiting})
	}
	g, gctx := errgroup.WithContext(ctx)
	n := ps.opts.Concurrency
	if n <= 0 {
		n = 3
	}
	g.SetLimit(n)
	for _, b := range blobs {
		g.Go(func() error { return ps.blob(gctx, b) })
	}
	return g.Wait()
}

// blob pushes one blob: skipped when present, mounted when a source
// repository has it, uploaded otherwise.
func (ps *pusher) blob(ctx context.Context, desc ocispec.Descriptor) error {
	if isForeign(desc) {
		ps.report(Progress{Digest: desc.Digest, Size: desc.Size, Status: StatusForeign})
		return nil
	}
	ok, err := ps.exists(ctx, "blobs", desc.Digest)
	if err != nil {
		return err
	}
	if ok {
		ps.report(Progress{Digest: desc.Digest, Size: desc.Size, Done: desc.Size, Status: StatusExists})
		return nil
	}
	var location string
	for _, src := range ps.mounts[desc.Digest] {
		mounted, loc, err := ps.mount(ctx, desc, src)
		if err != nil {
			return fmt.Errorf("mount blob %s from %s: %w", desc.Digest, src, err)
		}
		if mounted {
			ps.report(Progress{Digest: desc.Digest, Size: desc.Size, Done: desc.Size, Status: StatusMounted + src})
			return nil
		}
		location = loc
	}
	err = ps.c.retry(ctx, func() error {
		err := ps.upload(ctx, desc, location)
		location = "" // a failed session is not reused
		return err
	})
	if err != nil {
		return fmt.Errorf("upload blob %s: %w", desc.Digest, err)
	}
	ps.report(Progress{Digest: desc.Digest, Size: desc.Size, Done: desc.Size, Status: StatusPushed})
	return nil
}

// isForeign reports a non-distributable layer (Windows base layers): it
// stays where its URLs point, as Docker leaves it.
func isForeign(d ocispec.Descriptor) bool {
	return len(d.URLs) > 0 && (strings.Contains(d.MediaType, "foreign") || strings.Contains(d.MediaType, "nondistributable"))
}

// mountSources keeps, per digest, the source repositories on repo's
// registry other than repo itself, as repository paths.
func mountSources(repo name.Repository, from map[digest.Digest][]string) map[digest.Digest][]string {
	out := map[digest.Digest][]string{}
	for d, srcs := range from {
		for _, s := range srcs {
			r, err := name.NewRepository(s)
			if err != nil || r.RegistryStr() != repo.RegistryStr() || r.RepositoryStr() == repo.RepositoryStr() {
				continue
			}
			out[d] = append(out[d], r.RepositoryStr())
		}
	}
	return out
}

func uniqueSources(m map[digest.Digest][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, srcs := range m {
		for _, s := range srcs {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out) // a stable scope list keeps the transport cache key stable
	return out
}
