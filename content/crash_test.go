package content

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

// TestCrash stops a writer dead at each point of its life, as kill -9
// would, reopens the store as a new Store value, and checks that the blob is
// either fully there and verified or not there at all, and that the next
// writer finishes the job.
func TestCrash(t *testing.T) {
	ctx := context.Background()
	data := testData(100 << 10)
	d := descOf(data)
	tests := []struct {
		at      string // "" crashes mid-write
		visible bool
	}{
		{"", false},
		{"synced", false},
		{"renamed", true},
	}
	for _, tt := range tests {
		root := t.TempDir()
		s, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		s.crashAt = tt.at
		w, err := s.Writer(ctx, "pull-c", d)
		if err != nil {
			t.Fatal(err)
		}
		if tt.at == "" {
			w.Write(data[:len(data)/2])
			w.abandon()
		} else {
			w.Write(data)
			if _, err := w.Commit(ctx); err != errCrash {
				t.Fatalf("crash at %s: Commit got %v, want the crash", tt.at, err)
			}
		}

		s2, err := Open(root)
		if err != nil {
			t.Fatalf("crash at %q: reopen: %v", tt.at, err)
		}
		_, err = s2.Info(ctx, d.Digest)
		if tt.visible {
			if err != nil {
				t.Errorf("crash at %q: Info got %v, want the blob", tt.at, err)
			}
			if err := s2.Verify(ctx, d.Digest); err != nil {
				t.Errorf("crash at %q: %v", tt.at, err)
			}
		} else if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("crash at %q: Info got %v, want ErrNotFound", tt.at, err)
		}

		w, err = s2.Writer(ctx, "pull-c", d)
		switch {
		case tt.visible && !errors.Is(err, errdefs.ErrAlreadyExists):
			t.Errorf("crash at %q: Writer got %v, want ErrAlreadyExists", tt.at, err)
		case !tt.visible && err != nil:
			t.Errorf("crash at %q: Writer: %v", tt.at, err)
		case !tt.visible:
			if w.Offset() == 0 {
				t.Errorf("crash at %q: got offset 0, want the data resumed", tt.at)
			}
			w.Write(data[w.Offset():])
			if _, err := w.Commit(ctx); err != nil {
				t.Errorf("crash at %q: Commit after resume: %v", tt.at, err)
			}
		}
		if err := s2.Verify(ctx, d.Digest); err != nil {
			t.Errorf("crash at %q: after recovery: %v", tt.at, err)
		}
		if entries, _ := os.ReadDir(s2.ingestRoot()); len(entries) != 0 {
			t.Errorf("crash at %q: ingest dir after recovery: got %v, want empty", tt.at, entries)
		}
	}
}

// TestOpenTidies plants what interrupted writers leave and checks that Open
// removes the debris and keeps what can be resumed.
func TestOpenTidies(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	data := testData(500)
	d := descOf(data)

	keep, _ := s.Writer(ctx, "resumable", d)
	keep.Write(data[:100])
	keep.Close()
	os.WriteFile(filepath.Join(s.ingestDir("resumable"), metaFile+tmpSuffix), []byte("{"), 0o600)

	busy, _ := s.Writer(ctx, "busy", Descriptor{Size: -1})
	defer busy.Abort()
	busy.Write([]byte("in progress"))

	noMeta := s.ingestDir("no-meta")
	os.Mkdir(noMeta, 0o700)
	os.WriteFile(filepath.Join(noMeta, dataFile), []byte("x"), 0o600)
	orphanLock := s.digestLock(descOf([]byte("y")).Digest)
	os.WriteFile(orphanLock, nil, 0o600)

	if _, err := Open(root); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	for _, gone := range []string{noMeta, orphanLock, filepath.Join(s.ingestDir("resumable"), metaFile+tmpSuffix)} {
		if _, err := os.Lstat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Open: got %v, want it removed", gone, err)
		}
	}
	ins, _ := s.Ingests(ctx)
	if len(ins) != 2 {
		t.Errorf("Ingests after Open: got %+v, want resumable and busy", ins)
	}
	for _, in := range ins {
		if in.Key == "busy" && (!in.Active || in.Offset != 11) {
			t.Errorf("busy ingest: got %+v, want active at 11", in)
		}
		if in.Key == "resumable" && (in.Active || in.Offset != 100) {
			t.Errorf("resumable ingest: got %+v, want inactive at 100", in)
		}
	}
}
