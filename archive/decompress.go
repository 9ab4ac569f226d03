package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is how a layer blob is compressed.
type Compression int

const (
	// Uncompressed is a plain tar stream.
	Uncompressed Compression = iota
	// Gzip is gzip (RFC 1952), possibly of several members.
	Gzip
	// Zstd is zstd frames (RFC 8878).
	Zstd
)

func (c Compression) String() string {
	switch c {
	case Uncompressed:
		return "uncompressed"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Magic numbers: RFC 1952 (gzip), RFC 8878 (zstd frames), and the formats
// that are recognised only to be named in the error.
const (
	magicGzip  = "\x1f\x8b"
	magicZstd  = "\x28\xb5\x2f\xfd"
	magicBzip2 = "BZh"
	magicXz    = "\xfd7zXZ\x00"
	magicLz4   = "\x04\x22\x4d\x18"
)

// readBufSize buffers the compressed stream; the decompressors read it
// byte-wise through the buffer rather than through their own.
const readBufSize = 128 << 10

// Decompress detects the compression of a layer blob from its first bytes
// and returns the uncompressed stream (to be closed by the caller) and the
// compression found. A stream that is neither gzip, zstd nor a tar archive
// is an error (errdefs.ErrNotImplemented for a known but unsupported
// format, errdefs.ErrInvalidArgument otherwise). An empty stream is an
// empty uncompressed layer.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, readBufSize)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, Uncompressed, fmt.Errorf("detect compression: %w", err)
	}
	switch {
	case hasMagic(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Gzip, fmt.Errorf("open gzip stream: %w", err)
		}
		return zr, Gzip, nil
	case hasMagic(head, magicZstd):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, Zstd, fmt.Errorf("open zstd stream: %w", err)
		}
		return zr.IOReadCloser(), Zstd, nil
	case isTar(head):
		return io.NopCloser(br), Uncompressed, nil
	}
	for _, f := range []struct {
		magic string
		name  string
	}{{magicBzip2, "bzip2"}, {magicXz, "xz"}, {magicLz4, "lz4"}} {
		if hasMagic(head, f.magic) {
			return nil, Uncompressed, fmt.Errorf("layer compressed with %s: %w", f.name, errdefs.ErrNotImplemented)
		}
	}
	return nil, Uncompressed, fmt.Errorf("layer is neither gzip, zstd nor tar: %w", errdefs.ErrInvalidArgument)
}

// isTar reports whether head starts an uncompressed tar stream: nothing at
// all, zero blocks (an empty archive's trailer), or a header block whose
// checksum is right. The checksum is the sum of the header's bytes with the
// checksum field taken as spaces, stored in octal (POSIX ustar; old
// implementations summed signed bytes, which is accepted too).
func isTar(head []byte) bool {
	if len(head) == 0 || allZero(head) {
		return true
	}
	if len(head) < 512 {
		return false
	}
	field := bytes.Trim(head[148:156], " \x00")
	want, err := strconv.ParseInt(string(field), 8, 64)
	if err != nil {
		return false
	}
	var unsigned, signed int64
	for i, b := range head[:512] {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || want == signed
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func hasMagic(head []byte, magic string) bool {
	return len(head) >= len(magic) && string(head[:len(magic)]) == magic
}
