package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Size limits of what is read into memory.
const (
	// MaxManifestSize bounds a manifest or index (the distribution spec
	// lets registries refuse manifests above 4 MiB).
	MaxManifestSize = 4 << 20
	// MaxBlobSize bounds a blob read by FetchBlob (image configs).
	MaxBlobSize = 16 << 20
)

func pullScope(repo string) string { return "repository:" + repo + ":pull" }

// Resolve fetches the manifest or index that ref (a tag or digest
// reference, normalised as Docker does) names. By digest, the body must
// have that digest. It returns the parsed reference, the descriptor
// (media type, digest and size of the body) and the body.
func (c *Client) Resolve(ctx context.Context, ref string) (name.Reference, ocispec.Descriptor, []byte, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, fmt.Errorf("parse reference %q: %w", ref, invalid(err))
	}
	var want digest.Digest
	if d, ok := r.(name.Digest); ok {
		if want, err = digest.Parse(d.DigestStr()); err != nil {
			return nil, ocispec.Descriptor{}, nil, fmt.Errorf("parse reference %q: %w", ref, invalid(err))
		}
	}
	desc, body, err := c.fetchManifest(ctx, r.Context(), r.Identifier(), want, -1)
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, fmt.Errorf("resolve %s: %w", r, err)
	}
	return r, desc, body, nil
}

// FetchManifest fetches the manifest or index desc describes from repo,
// verified against desc's digest and size.
func (c *Client) FetchManifest(ctx context.Context, repo name.Repository, desc ocispec.Descriptor) ([]byte, error) {
	if err := checkDescriptor(desc, MaxManifestSize); err != nil {
		return nil, fmt.Errorf("fetch manifest %s@%s: %w", repo, desc.Digest, err)
	}
	got, body, err := c.fetchManifest(ctx, repo, desc.Digest.String(), desc.Digest, desc.Size)
	if err == nil && (IsIndex(desc.MediaType) || IsManifest(desc.MediaType)) && got.MediaType != desc.MediaType {
		err = fmt.Errorf("descriptor says %q, registry sent %q: %w", desc.MediaType, got.MediaType, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch manifest %s@%s: %w", repo, desc.Digest, err)
	}
	return body, nil
}

// FetchBlob fetches a small blob (an image config) from repo, verified
// against desc's digest and size, which must be at most MaxBlobSize.
func (c *Client) FetchBlob(ctx context.Context, repo name.Repository, desc ocispec.Descriptor) ([]byte, error) {
	if err := checkDescriptor(desc, MaxBlobSize); err != nil {
		return nil, fmt.Errorf("fetch blob %s@%s: %w", repo, desc.Digest, err)
	}
	var body []byte
	err := c.eachEndpoint(ctx, repo, func(e endpoint, rt http.RoundTripper) error {
		return c.retry(ctx, func() error {
			var err error
			body, _, err = c.getBytes(ctx, rt, c.url(e, "blobs", desc.Digest.String()), "", desc.Size)
			if err == nil {
				err = verify(body, desc.Digest, desc.Size)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("fetch blob %s@%s: %w", repo, desc.Digest, err)
	}
	return body, nil
}

func checkDescriptor(desc ocispec.Descriptor, max int64) error {
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("descriptor digest %q: %w", desc.Digest, invalid(err))
	}
	if desc.Size < 0 || desc.Size > max {
		return fmt.Errorf("descriptor size %d is outside 0..%d: %w", desc.Size, max, errdefs.ErrInvalidArgument)
	}
	return nil
}

// verify checks a body against a digest and, when size >= 0, a size.
func verify(body []byte, want digest.Digest, size int64) error {
	if size >= 0 && int64(len(body)) != size {
		return fmt.Errorf("got %d bytes, want %d: %w", len(body), size, errdefs.ErrDataLoss)
	}
	if !want.Algorithm().Available() {
		return fmt.Errorf("digest algorithm of %s: %w", want, errdefs.ErrNotImplemented)
	}
	if got := want.Algorithm().FromBytes(body); got != want {
		return fmt.Errorf("content has digest %s, want %s: %w", got, want, errdefs.ErrDataLoss)
	}
	return nil
}

// eachEndpoint runs op against repo's mirrors, then its registry, until
// one succeeds. The registry's error is returned when all fail.
func (c *Client) eachEndpoint(ctx context.Context, repo name.Repository, op func(endpoint, http.RoundTripper) error) error {
	var err error
	for _, e := range c.endpoints(repo) {
		var rt http.RoundTripper
		if rt, err = c.transport(ctx, e.host, []string{pullScope(e.repo)}); err == nil {
			if err = op(e, rt); err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			return err
		}
	}
	return c.authHint(ctx, repo.RegistryStr(), err)
}

// authHint adds to an authentication failure that no credentials were
// found for host, the usual cause.
func (c *Client) authHint(ctx context.Context, host string, err error) error {
	if !errdefs.IsUnauthorized(err) {
		return err
	}
	reg, rerr := c.registry(host)
	if rerr != nil {
		return err
	}
	if auth, aerr := authn.Resolve(ctx, c.keychain, reg); aerr == nil && auth == authn.Anonymous {
		return fmt.Errorf("%w (no credentials for %s: log in first)", err, host)
	}
	return err
}

// fetchManifest GETs a manifest by tag or digest from repo's endpoints.
// want (when set) and size (when >= 0) are verified.
func (c *Client) fetchManifest(ctx context.Context, repo name.Repository, ref string, want digest.Digest, size int64) (ocispec.Descriptor, []byte, error) {
	var desc ocispec.Descriptor
	var body []byte
	err := c.eachEndpoint(ctx, repo, func(e endpoint, rt http.RoundTripper) error {
		var hdr http.Header
		err := c.retry(ctx, func() error {
			var err error
			body, hdr, err = c.getBytes(ctx, rt, c.url(e, "manifests", ref), acceptManifests, size)
			return err
		})
		if err != nil {
			return err
		}
		desc, err = describeManifest(hdr, body, want, size)
		return err
	})
	return desc, body, err
}

// describeManifest checks a manifest answer and returns its descriptor.
func describeManifest(hdr http.Header, body []byte, want digest.Digest, size int64) (ocispec.Descriptor, error) {
	mt, err := manifestType(hdr.Get("Content-Type"), body)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := digest.FromBytes(body)
	if want != "" {
		if err := verify(body, want, size); err != nil {
			return ocispec.Descriptor{}, err
		}
		d = want
	}
	// The registry's digest header must agree with what it sent.
	if h, err := digest.Parse(hdr.Get("Docker-Content-Digest")); err == nil && h.Algorithm().Available() {
		if got := h.Algorithm().FromBytes(body); got != h {
			return ocispec.Descriptor{}, fmt.Errorf("registry says the manifest is %s, its body is %s: %w", h, got, errdefs.ErrDataLoss)
		}
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(body))}, nil
}

// getBytes GETs url and reads the whole body: exactly size bytes when
// size >= 0, at most MaxManifestSize otherwise.
func (c *Client) getBytes(ctx context.Context, rt http.RoundTripper, url, accept string, size int64) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, invalid(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.do(rt, req, http.StatusOK)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	limit := size
	if limit < 0 {
		limit = MaxManifestSize
	}
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("registry announces %d bytes, more than the %d expected: %w", resp.ContentLength, limit, errdefs.ErrDataLoss)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", req.URL.Redacted(), classify(err))
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("body is larger than the %d bytes expected: %w", limit, errdefs.ErrDataLoss)
	}
	if resp.ContentLength >= 0 && int64(len(body)) < resp.ContentLength {
		return nil, nil, fmt.Errorf("read %s: %d of %d bytes: %w", req.URL.Redacted(), len(body), resp.ContentLength, classify(errTruncated))
	}
	return body, resp.Header, nil
}

// do sends req over rt (following redirects) and returns the response
// when its status is one of ok; otherwise the registry's error.
func (c *Client) do(rt http.RoundTripper, req *http.Request, ok ...int) (*http.Response, error) {
	client := &http.Client{Transport: rt}
	resp, err := client.Do(req)
	if err != nil {
		return nil, classify(err)
	}
	if err := checkStatus(resp, ok...); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}
