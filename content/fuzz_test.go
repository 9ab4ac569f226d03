package content

import (
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
)

// FuzzBlobPath feeds digests as a hostile manifest would write them: every
// one is refused or names a file directly inside blobs/sha256.
func FuzzBlobPath(f *testing.F) {
	s := &Store{root: "/content"}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := s.blobPath(digest.Digest(in))
		if err != nil {
			return
		}
		if filepath.Dir(p) != s.blobDir() || len(filepath.Base(p)) != 64 {
			t.Errorf("blobPath(%q): got %q, want a 64-character name in %s", in, p, s.blobDir())
		}
	})
}
