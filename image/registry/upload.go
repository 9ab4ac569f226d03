package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The blob upload protocol of the distribution spec:
//
//	POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<src>
//	    201 Created: mounted, done
//	    202 Accepted + Location: mount refused, upload session opened
//	POST /v2/<repo>/blobs/uploads/        202 Accepted + Location
//	monolithic: PUT <location>?digest=<digest>  (whole body)      201
//	chunked:    PATCH <location> (Content-Range: start-end)      202 + Location
//	            ... one PATCH per chunk ...
//	            PUT <location>?digest=<digest>  (empty body)      201

// mount asks the registry to mount desc from the repository src. When the
// registry refuses, it returns the upload session it opened instead.
func (ps *pusher) mount(ctx context.Context, desc ocispec.Descriptor, src string) (bool, string, error) {
	q := url.Values{"mount": {desc.Digest.String()}, "from": {src}}
	var mounted bool
	var location string
	err := ps.c.retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ps.uploadsURL()+"?"+q.Encode(), nil)
		if err != nil {
			return invalid(err)
		}
		resp, err := ps.c.do(ps.rt, req, http.StatusCreated, http.StatusAccepted)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			mounted = true
			return checkDigestHeader(resp, desc.Digest)
		}
		loc, err := resp.Location()
		if err == nil {
			location = loc.String()
		}
		return nil
	})
	return mounted, location, err
}

func (ps *pusher) uploadsURL() string {
	return ps.c.scheme(ps.e.host) + "://" + ps.e.host + "/v2/" + ps.e.repo + "/blobs/uploads/"
}

// startUpload opens an upload session and returns its location.
func (ps *pusher) startUpload(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ps.uploadsURL(), nil)
	if err != nil {
		return "", invalid(err)
	}
	resp, err := ps.c.do(ps.rt, req, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("upload session without a location: %w", errdefs.ErrInvalidArgument)
	}
	return loc.String(), nil
}

// upload sends desc's content from the provider, in one PUT or in chunks,
// to location (a new session when empty).
func (ps *pusher) upload(ctx context.Context, desc ocispec.Descriptor, location string) error {
	if location == "" {
		var err error
		if location, err = ps.startUpload(ctx); err != nil {
			return err
		}
	}
	rc, err := ps.provider(ctx, desc)
	if err != nil {
		return fmt.Errorf("open blob: %w", err)
	}
	defer rc.Close()
	pr := &progressReader{r: io.LimitReader(rc, desc.Size), ps: ps, p: Progress{Digest: desc.Digest, Size: desc.Size, Status: StatusPushing}}
	if ps.opts.ChunkSize > 0 && desc.Size > ps.opts.ChunkSize {
		for start := int64(0); start < desc.Size; start += ps.opts.ChunkSize {
			n := min(ps.opts.ChunkSize, desc.Size-start)
			if location, err = ps.patch(ctx, location, io.LimitReader(pr, n), start, n); err != nil {
				return err
			}
		}
		return ps.finish(ctx, location, desc, http.NoBody, 0)
	}
	return ps.finish(ctx, location, desc, pr, desc.Size)
}

// patch sends one chunk and returns the session's next location.
func (ps *pusher) patch(ctx context.Context, location string, body io.Reader, start, n int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, location, io.NopCloser(body))
	if err != nil {
		return "", invalid(err)
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", start, start+n-1))
	resp, err := ps.c.do(ps.rt, req, http.StatusAccepted, http.StatusNoContent)
	if err != nil {
		return "", fmt.Errorf("chunk at %d: %w", start, err)
	}
	resp.Body.Close()
	if loc, err := resp.Location(); err == nil {
		return loc.String(), nil
	}
	return location, nil
}

// finish closes the session with the digest and the last (or only) data.
func (ps *pusher) finish(ctx context.Context, location string, desc ocispec.Descriptor, body io.Reader, n int64) error {
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("upload location %q: %w", location, invalid(err))
	}
	q := u.Query()
	q.Set("digest", desc.Digest.String())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), io.NopCloser(body))
	if err != nil {
		return invalid(err)
	}
	req.ContentLength = n
	if n == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := ps.c.do(ps.rt, req, http.StatusCreated, http.StatusNoContent, http.StatusOK)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return checkDigestHeader(resp, desc.Digest)
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r  io.Reader
	ps *pusher
	p  Progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.Done += int64(n)
		pr.ps.report(pr.p)
	}
	return n, err
}
