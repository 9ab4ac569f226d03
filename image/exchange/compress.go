package exchange

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compression is the format a stream is compressed in, found by its magic
// bytes.
type compression int

const (
	uncompressed compression = iota
	compGzip
	compZstd
	compBzip2
	compXz
)

func (c compression) String() string {
	return [...]string{"uncompressed", "gzip", "zstd", "bzip2", "xz"}[c]
}

// sniffLen is how many leading bytes sniff needs.
const sniffLen = 6

func sniff(b []byte) compression {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return compGzip
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return compZstd
	case bytes.HasPrefix(b, []byte("BZh")):
		return compBzip2
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return compXz
	}
	return uncompressed
}

// zstdMaxWindow bounds the memory a zstd frame can make the decoder take:
// a hostile frame header may ask for gigabytes.
const zstdMaxWindow = 128 << 20

// decompress returns a reader of r's decompressed bytes. Closing it frees
// the decoder, not r.
func decompress(r io.Reader, c compression) (io.ReadCloser, error) {
	switch c {
	case uncompressed:
		return io.NopCloser(r), nil
	case compGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case compZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	case compBzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("%s compression: %w", c, errdefs.ErrNotImplemented)
}

// autoDecompress peeks at r and decompresses it if it is compressed.
func autoDecompress(r io.Reader) (io.ReadCloser, compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF {
		return nil, uncompressed, err
	}
	c := sniff(head)
	rc, err := decompress(br, c)
	return rc, c, err
}
