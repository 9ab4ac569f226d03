package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobReader streams the blob desc describes from repo, starting at
// offset. When the transfer fails transiently (connection reset, 5xx, a
// body that ends short of desc.Size) it asks again with a Range request
// from the first byte not yet delivered, transparently to the reader; it
// gives up after Retries consecutive failures without progress. It never
// delivers more than desc.Size bytes and fails when the registry has more.
// The caller verifies the digest.
//
// The reader keeps ctx for the requests it makes while it is read.
func (c *Client) BlobReader(ctx context.Context, repo name.Repository, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob reader %s@%s: %w", repo, desc.Digest, invalid(err))
	}
	if desc.Size < 0 || offset < 0 || offset > desc.Size {
		return nil, fmt.Errorf("blob reader %s@%s: offset %d outside a blob of %d bytes: %w",
			repo, desc.Digest, offset, desc.Size, errdefs.ErrInvalidArgument)
	}
	b := &blobReader{c: c, ctx: ctx, desc: desc, pos: offset}
	if offset == desc.Size {
		return b, nil
	}
	err := c.eachEndpoint(ctx, repo, func(e endpoint, rt http.RoundTripper) error {
		b.e, b.rt, b.fails = e, rt, 0
		return b.openWithRetries()
	})
	if err != nil {
		return nil, fmt.Errorf("fetch blob %s@%s: %w", repo, desc.Digest, err)
	}
	return b, nil
}

type blobReader struct {
	c    *Client
	ctx  context.Context
	desc ocispec.Descriptor
	e    endpoint
	rt   http.RoundTripper

	pos   int64         // bytes of the blob delivered (or skipped by offset)
	body  io.ReadCloser // current response body, nil between attempts
	fails int           // consecutive failures without progress
	err   error         // sticky
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	left := b.desc.Size - b.pos
	if left <= 0 {
		b.err = b.finish()
		return 0, b.err
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	for {
		if b.body == nil {
			if err := b.openWithRetries(); err != nil {
				b.err = b.wrap(err)
				return 0, b.err
			}
		}
		n, err := b.body.Read(p)
		b.pos += int64(n)
		if n > 0 {
			b.fails = 0
		}
		if errors.Is(err, io.EOF) && b.pos < b.desc.Size {
			err = fmt.Errorf("%w at %d of %d bytes", errTruncated, b.pos, b.desc.Size)
		}
		if err == nil || errors.Is(err, io.EOF) {
			return n, nil
		}
		b.body.Close()
		b.body = nil
		if !b.retryable(err) {
			b.err = b.wrap(err)
			return n, b.err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// finish checks, once size bytes are delivered, that the registry has no
// more to send, and returns io.EOF or the error.
func (b *blobReader) finish() error {
	if b.body == nil {
		return io.EOF
	}
	var one [1]byte
	n, _ := io.ReadFull(b.body, one[:])
	b.body.Close()
	b.body = nil
	if n > 0 {
		return b.wrap(fmt.Errorf("registry sent more than the descriptor's %d bytes: %w", b.desc.Size, errdefs.ErrDataLoss))
	}
	return io.EOF
}

// retryable counts a failure and pauses before the next attempt; it
// reports false when err is permanent or the retries are used up.
func (b *blobReader) retryable(err error) bool {
	if !transient(err) || b.fails >= b.c.retries || b.ctx.Err() != nil {
		return false
	}
	delay := b.c.retryDelay << b.fails
	b.fails++
	return sleep(b.ctx, delay) == nil
}

func (b *blobReader) openWithRetries() error {
	for {
		err := b.open()
		if err == nil {
			return nil
		}
		if !b.retryable(err) {
			return err
		}
	}
}

// open requests the blob from b.pos on.
func (b *blobReader) open() error {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.c.url(b.e, "blobs", b.desc.Digest.String()), nil)
	if err != nil {
		return invalid(err)
	}
	if b.pos > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", b.pos))
	}
	resp, err := b.c.do(b.rt, req, http.StatusOK, http.StatusPartialContent)
	if err != nil {
		return err
	}
	if err := b.checkResponse(resp); err != nil {
		resp.Body.Close()
		return err
	}
	b.body = resp.Body
	return nil
}

// checkResponse checks where the answer starts and how long it says it
// is; a server that ignored the Range header is skipped ahead.
func (b *blobReader) checkResponse(resp *http.Response) error {
	switch {
	case resp.StatusCode == http.StatusPartialContent:
		start, _, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return fmt.Errorf("range answer: %w", err)
		}
		if start != b.pos {
			return fmt.Errorf("asked for bytes from %d, registry sent from %d: %w", b.pos, start, errdefs.ErrDataLoss)
		}
		if total >= 0 && total != b.desc.Size {
			return fmt.Errorf("registry says the blob has %d bytes, the descriptor %d: %w", total, b.desc.Size, errdefs.ErrDataLoss)
		}
	case b.pos > 0:
		if resp.ContentLength >= 0 && resp.ContentLength != b.desc.Size {
			return fmt.Errorf("registry sent %d bytes, the descriptor says %d: %w", resp.ContentLength, b.desc.Size, errdefs.ErrDataLoss)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, b.pos); err != nil {
			return fmt.Errorf("skip to offset %d: %w", b.pos, err)
		}
		return nil
	}
	if resp.ContentLength > b.desc.Size-b.pos {
		return fmt.Errorf("registry announces %d bytes from offset %d of a %d-byte blob: %w",
			resp.ContentLength, b.pos, b.desc.Size, errdefs.ErrDataLoss)
	}
	return nil
}

func (b *blobReader) wrap(err error) error {
	return fmt.Errorf("read blob %s/%s@%s at offset %d: %w", b.e.host, b.e.repo, b.desc.Digest, b.pos, classify(err))
}

func (b *blobReader) Close() error {
	if b.body != nil {
		b.body.Close()
		b.body = nil
	}
	if b.err == nil {
		b.err = fmt.Errorf("read blob %s: reader closed: %w", b.desc.Digest, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// parseContentRange parses "bytes START-END/TOTAL" (TOTAL may be "*",
// returned as -1).
func parseContentRange(s string) (start, end, total int64, err error) {
	bad := func() (int64, int64, int64, error) {
		return 0, 0, 0, fmt.Errorf("malformed Content-Range %q: %w", s, errdefs.ErrInvalidArgument)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return bad()
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return bad()
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil || start < 0 {
		return bad()
	}
	if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
		return bad()
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total <= end {
			return bad()
		}
	}
	return start, end, total, nil
}
