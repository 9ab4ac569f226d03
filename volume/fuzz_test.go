package volume

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

// FuzzReadArchive feeds the import decoder arbitrary bytes: it must
// return an error or nil, never panic, and hand emit only names inside
// the volume.
func FuzzReadArchive(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "data/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	tw.Write([]byte("hi"))
	tw.WriteHeader(&tar.Header{Name: manifestName, Typeflag: tar.TypeReg, Size: 2})
	tw.Write([]byte("{}"))
	tw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		err := readArchive(bytes.NewReader(data), func(h *tar.Header, body io.Reader) error {
			if h.Name == "" || h.Name[0] == '/' {
				t.Fatalf("emitted name %q", h.Name)
			}
			if body != nil {
				io.Copy(io.Discard, body)
			}
			return nil
		})
		_ = err
	})
}
