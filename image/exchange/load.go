package exchange

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads an image archive from r — an OCI image layout tar, a
// docker-archive (`docker save`, any version), or a tar that is both, as
// such a tar may itself be gzip-, zstd- or bzip2-compressed — and stores
// its blobs through ing as the tar is read. It returns the images the
// archive names, once the whole archive is read and every blob those
// images need is in it.
//
// An OCI layout is read through index.json; a tar without index.json
// through manifest.json, whose images get a Docker schema2 manifest (an
// OCI one when a layer is zstd-compressed) built from the config and the
// layers as stored. Blobs an aborted Load stored stay in the store
// unreferenced, for the collector.
func Load(ctx context.Context, r io.Reader, ing Ingester) ([]Loaded, error) {
	rc, _, err := autoDecompress(r)
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	defer rc.Close()
	a := &archive{ing: ing, entries: map[string]*entry{}, blobs: map[digest.Digest]*entry{}}
	if err := a.read(ctx, tar.NewReader(rc)); err != nil {
		return nil, err
	}
	if a.special["index.json"] != nil {
		loaded, err := a.loadOCI()
		if err != nil || len(loaded) > 0 {
			return loaded, err
		}
		if a.special["manifest.json"] == nil {
			return nil, fmt.Errorf("index.json names no image manifest or index: %w", errdefs.ErrInvalidArgument)
		}
	}
	if a.special["manifest.json"] != nil {
		return a.loadDocker(ctx)
	}
	if a.special["repositories"] != nil {
		return nil, fmt.Errorf("archive has neither index.json nor manifest.json (the format before Docker 1.10): %w", errdefs.ErrNotImplemented)
	}
	return nil, fmt.Errorf("archive has neither index.json nor manifest.json: not an image archive: %w", errdefs.ErrInvalidArgument)
}

// archive is what Load learnt from the tar: its entries by clean name,
// the blobs ingested, and the JSON documents kept.
type archive struct {
	ing      Ingester
	entries  map[string]*entry
	blobs    map[digest.Digest]*entry // ingested files by digest
	special  map[string][]byte        // manifest.json, index.json, oci-layout, repositories
	docBytes int64
}

// entry is one file or link of the archive.
type entry struct {
	name   string
	link   string // for links: the target's clean name; empty for files
	bad    string // why a link cannot be followed
	desc   ocispec.Descriptor
	comp   compression
	diffID digest.Digest // digest of the uncompressed content, when known
	doc    []byte        // the content, when it is a small JSON document
}

// isSpecial tells the archive's own metadata files, read but not stored.
func isSpecial(name string) bool {
	switch name {
	case "manifest.json", "index.json", ocispec.ImageLayoutFile, "repositories":
		return true
	}
	return false
}

func (a *archive) read(ctx context.Context, tr *tar.Reader) error {
	a.special = map[string][]byte{}
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		if n >= maxEntries {
			return fmt.Errorf("archive has more than %d entries: %w", maxEntries, errdefs.ErrInvalidArgument)
		}
		if err := a.readEntry(ctx, hdr, tr); err != nil {
			return err
		}
	}
}

func (a *archive) readEntry(ctx context.Context, hdr *tar.Header, tr *tar.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
	default:
		return nil // directories and anything else carry nothing Load needs
	}
	if _, dup := a.entries[name]; dup || a.special[name] != nil {
		return fmt.Errorf("archive entry %q appears twice: %w", name, errdefs.ErrInvalidArgument)
	}
	e := &entry{name: name}
	switch {
	case hdr.Typeflag == tar.TypeSymlink:
		e.link, e.bad = linkTarget(path.Join(path.Dir(name), hdr.Linkname), hdr.Linkname)
		if path.IsAbs(hdr.Linkname) {
			e.link, e.bad = "", "it is an absolute symlink"
		}
	case hdr.Typeflag == tar.TypeLink:
		e.link, e.bad = linkTarget(hdr.Linkname, hdr.Linkname)
	case isSpecial(name):
		data, err := a.readDoc(name, hdr.Size, tr)
		if err != nil {
			return err
		}
		a.special[name] = data
		return nil
	case isLegacyMetadata(name):
		return nil // <id>/json and <id>/VERSION: Docker's v1 metadata, not needed
	default:
		if err := a.ingestEntry(ctx, e, hdr.Size, tr); err != nil {
			return err
		}
	}
	a.entries[name] = e
	return nil
}

// cleanName makes an entry name relative to the archive root, refusing
// names that leave it.
func cleanName(n string) (string, error) {
	c := path.Clean(strings.TrimPrefix(n, "./"))
	if n == "" || c == "." || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("name leaves the archive or is empty: %w", errdefs.ErrInvalidArgument)
	}
	return c, nil
}

func linkTarget(joined, raw string) (string, string) {
	c := path.Clean(joined)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Sprintf("its target %q leaves the archive", raw)
	}
	return c, ""
}

func isLegacyMetadata(name string) bool {
	dir, base := path.Split(name)
	return dir != "" && !strings.HasPrefix(dir, "blobs/") && (base == "json" || base == "VERSION")
}

// blobDigest returns the digest an entry's name gives it:
// blobs/<alg>/<encoded>. ok is false for names outside blobs/.
func blobDigest(name string) (d digest.Digest, ok bool, err error) {
	rest, ok := strings.CutPrefix(name, "blobs/")
	if !ok {
		return "", false, nil
	}
	alg, enc, found := strings.Cut(rest, "/")
	if !found || strings.Contains(enc, "/") {
		return "", true, fmt.Errorf("blob entry %q is not blobs/<algorithm>/<encoded>: %w", name, errdefs.ErrInvalidArgument)
	}
	d = digest.NewDigestFromEncoded(digest.Algorithm(alg), enc)
	if err := d.Validate(); err != nil {
		return "", true, fmt.Errorf("blob entry %q is not named by a valid digest: %v: %w", name, err, errdefs.ErrInvalidArgument)
	}
	return d, true, nil
}

// readDoc reads a whole small document, counting it against the memory
// Load may use.
func (a *archive) readDoc(name string, size int64, r io.Reader) ([]byte, error) {
	if size > maxDocument {
		return nil, fmt.Errorf("archive entry %s is %d bytes, more than the %d a document may have: %w", name, size, maxDocument, errdefs.ErrInvalidArgument)
	}
	if a.docBytes += size; a.docBytes > maxDocuments {
		return nil, fmt.Errorf("archive holds more than %d bytes of JSON documents: %w", maxDocuments, errdefs.ErrInvalidArgument)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read archive entry %s: %v: %w", name, err, errdefs.ErrInvalidArgument)
	}
	return data, nil
}

// ingestEntry stores a file's content as a blob. A file under blobs/ is
// stored with the digest its name gives, a small JSON document with the
// digest of the bytes read; any other file (a docker-archive's layer) is
// stored as it passes and the store says its digest. For a compressed
// one the digest of its uncompressed content is computed on the way.
func (a *archive) ingestEntry(ctx context.Context, e *entry, size int64, r io.Reader) error {
	want, isBlob, err := blobDigest(e.name)
	if err != nil {
		return err
	}
	rr := &readErr{r: r}
	br := bufio.NewReaderSize(rr, 64<<10)
	head, _ := br.Peek(512)
	e.comp = sniff(head)
	var src io.Reader = br
	if looksLikeJSON(head, size) {
		data, err := a.readDoc(e.name, size, br)
		if err != nil {
			return err
		}
		e.doc, src = data, bytes.NewReader(data)
		if want == "" {
			want = digest.FromBytes(data)
		}
	}
	var diff *diffDigester
	if !isBlob && (e.comp == compGzip || e.comp == compZstd) {
		diff = startDiffDigester(e.comp)
		src = io.TeeReader(src, diff)
	}
	got, err := a.ing.Ingest(ctx, src, ocispec.Descriptor{Digest: want, Size: size})
	if errdefs.IsAlreadyExists(err) && want != "" {
		got, err = ocispec.Descriptor{Digest: want, Size: size}, nil
	}
	if err == nil {
		// Whatever the store left unread, the diff digester needs.
		if extra, cerr := io.Copy(io.Discard, src); cerr != nil {
			err = cerr
		} else if extra > 0 && want == "" {
			err = fmt.Errorf("the store left %d bytes unread", extra)
		}
	}
	if diff != nil {
		diffID, derr := diff.finish(err)
		if err == nil && derr != nil {
			return fmt.Errorf("decompress archive entry %s: %v: %w", e.name, derr, errdefs.ErrInvalidArgument)
		}
		e.diffID = diffID
	}
	if rr.err != nil {
		return fmt.Errorf("read archive entry %s: %v: %w", e.name, rr.err, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return fmt.Errorf("store archive entry %s: %w", e.name, err)
	}
	if want != "" && got.Digest != want || got.Digest == "" || got.Size != size {
		return fmt.Errorf("store archive entry %s: stored as %q (%d bytes), want %q (%d bytes): %w", e.name, got.Digest, got.Size, want, size, errdefs.ErrDataLoss)
	}
	if e.comp == uncompressed {
		e.diffID = got.Digest
	}
	e.desc = ocispec.Descriptor{Digest: got.Digest, Size: size}
	if _, ok := a.blobs[got.Digest]; !ok {
		a.blobs[got.Digest] = e
	}
	return nil
}

// readErr remembers the error reading the archive gave, to tell a broken
// archive from a failing store.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// looksLikeJSON tells whether content starting with head may be a JSON
// document worth keeping: small, not a tar, starting with { or [.
func looksLikeJSON(head []byte, size int64) bool {
	if size > maxDocument || len(head) > 262 && string(head[257:262]) == "ustar" {
		return false
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// lookup finds the file a path in manifest.json names, following links.
func (a *archive) lookup(p string) (*entry, error) {
	name, err := cleanName(p)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", p, err)
	}
	for hops := 0; hops <= maxSymlinkHops; hops++ {
		e, ok := a.entries[name]
		if !ok {
			return nil, fmt.Errorf("path %q is not in the archive: %w", p, errdefs.ErrNotFound)
		}
		if e.bad != "" {
			return nil, fmt.Errorf("path %q leads to link %s, which cannot be followed: %s: %w", p, e.name, e.bad, errdefs.ErrInvalidArgument)
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return nil, fmt.Errorf("path %q: more than %d links: %w", p, maxSymlinkHops, errdefs.ErrInvalidArgument)
}

// diffDigester computes the digest of a compressed stream's content from
// the compressed bytes written to it, decompressing in a goroutine.
type diffDigester struct {
	pw   *io.PipeWriter
	done chan struct{}
	dgst digest.Digest
	err  error
}

func startDiffDigester(c compression) *diffDigester {
	pr, pw := io.Pipe()
	d := &diffDigester{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		// After an error keep reading, so writers never block.
		defer io.Copy(io.Discard, pr) //nolint:errcheck
		zr, err := decompress(pr, c)
		if err != nil {
			d.err = err
			return
		}
		defer zr.Close()
		h := digest.SHA256.Digester()
		if _, err := io.Copy(h.Hash(), zr); err != nil {
			d.err = err
			return
		}
		d.dgst = h.Digest()
	}()
	return d
}

func (d *diffDigester) Write(p []byte) (int, error) { return d.pw.Write(p) }

// finish ends the stream (with abort, when the caller failed) and returns
// the digest.
func (d *diffDigester) finish(abort error) (digest.Digest, error) {
	if abort != nil {
		d.pw.CloseWithError(abort)
	} else {
		d.pw.Close()
	}
	<-d.done
	if d.err == nil && d.dgst == "" {
		d.err = errors.New("no content")
	}
	return d.dgst, d.err
}
