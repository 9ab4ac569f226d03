package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// IngestInfo describes an unfinished write, for GC and fsck.
type IngestInfo struct {
	Key       string
	Expected  Descriptor
	Offset    int64     // bytes received so far
	StartedAt time.Time // when the ingest was first opened
	UpdatedAt time.Time // last write
	Active    bool      // a writer holds it right now
}

// ingestMeta is the meta file of an ingest directory.
type ingestMeta struct {
	Key       string        `json:"key"`
	Digest    digest.Digest `json:"digest,omitempty"`
	Size      int64         `json:"size"`
	StartedAt time.Time     `json:"startedAt"`
}

const (
	metaFile  = "meta"
	dataFile  = "data"
	lockName  = "lock"
	tmpSuffix = ".tmp"
	maxKeyLen = 1024
)

// ingestDir names the directory of key by its hash, so that any key, slashes
// and all, maps to one directory inside the ingest root.
func (s *Store) ingestDir(key string) string {
	return filepath.Join(s.ingestRoot(), digest.SHA256.FromString(key).Encoded())
}

func (s *Store) digestLock(dgst digest.Digest) string {
	return filepath.Join(s.ingestRoot(), "sha256-"+dgst.Encoded()+".lock")
}

func validKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("ingest key %q: want 1 to %d bytes: %w", key, maxKeyLen, errdefs.ErrInvalidArgument)
	}
	return nil
}

// lockKey creates the ingest directory of a key if needed and takes its
// lock. The directory may vanish under a waiter (its holder committed or
// aborted): then it is made again.
func (s *Store) lockKey(ctx context.Context, dir string, wait bool) (*lockFile, error) {
	for {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, diskFull(err)
		}
		l, err := acquire(ctx, filepath.Join(dir, lockName), wait)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			os.Remove(dir) // only if empty: the lock file could not be made
		}
		return l, err
	}
}

func readMeta(dir string) (ingestMeta, error) {
	var m ingestMeta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, metaFile), err)
	}
	return m, nil
}

// writeMeta replaces the meta file atomically. It is not fsynced: after a
// power loss a missing meta only costs a resume.
func writeMeta(dir string, m ingestMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+tmpSuffix)
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		os.Remove(tmp)
		return diskFull(err)
	}
	return os.Rename(tmp, filepath.Join(dir, metaFile))
}

// Ingests lists the unfinished writes.
func (s *Store) Ingests(ctx context.Context) ([]IngestInfo, error) {
	entries, err := os.ReadDir(s.ingestRoot())
	if err != nil {
		return nil, fmt.Errorf("list ingests: %w", err)
	}
	var out []IngestInfo
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(s.ingestRoot(), e.Name())
		m, err := readMeta(dir)
		if err != nil {
			continue // being created, or debris that Open removes
		}
		info := IngestInfo{
			Key:       m.Key,
			Expected:  Descriptor{Digest: m.Digest, Size: m.Size},
			StartedAt: m.StartedAt,
			UpdatedAt: m.StartedAt,
			Active:    lockHeld(filepath.Join(dir, lockName)),
		}
		if fi, err := os.Stat(filepath.Join(dir, dataFile)); err == nil {
			info.Offset, info.UpdatedAt = fi.Size(), fi.ModTime()
		}
		out = append(out, info)
	}
	return out, nil
}

// AbortIngest removes the unfinished write of key. An ingest that a writer
// holds is left alone: the error wraps errdefs.ErrUnavailable.
func (s *Store) AbortIngest(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	dir := s.ingestDir(key)
	l, err := acquire(ctx, filepath.Join(dir, lockName), false)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ingest %q: %w", key, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("abort ingest %q: %w", key, err)
	}
	defer l.release(false)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("abort ingest %q: %w", key, err)
	}
	return nil
}

// cleanIngests removes what interrupted writers leave behind and nobody
// holds: temp files, lock files, ingest directories without meta or data,
// and ingests of a blob that was committed before its directory went.
func (s *Store) cleanIngests() error {
	entries, err := os.ReadDir(s.ingestRoot())
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, e := range entries {
		path := filepath.Join(s.ingestRoot(), e.Name())
		switch {
		case e.IsDir() && digest.SHA256.Validate(e.Name()) == nil:
			l, err := acquire(ctx, filepath.Join(path, lockName), false)
			if errors.Is(err, errdefs.ErrUnavailable) || errors.Is(err, fs.ErrNotExist) {
				continue // in use, or gone meanwhile
			}
			if err != nil {
				return err
			}
			err = s.tidyIngest(path)
			l.release(false)
			if err != nil {
				return err
			}
		case e.Type().IsRegular() && strings.HasPrefix(e.Name(), "sha256-") && strings.HasSuffix(e.Name(), ".lock"):
			l, err := acquire(ctx, path, false)
			if err == nil {
				err = l.release(true)
			}
			if err != nil && !errors.Is(err, errdefs.ErrUnavailable) {
				return err
			}
		}
	}
	return nil
}

// tidyIngest cleans one ingest directory whose lock the caller holds.
func (s *Store) tidyIngest(dir string) error {
	os.Remove(filepath.Join(dir, metaFile+tmpSuffix))
	m, err := readMeta(dir)
	stale := err != nil
	if _, err := os.Lstat(filepath.Join(dir, dataFile)); err != nil {
		stale = true
	}
	if !stale && m.Digest != "" {
		if _, err := s.Info(context.Background(), m.Digest); err == nil {
			stale = true
		}
	}
	if stale {
		return os.RemoveAll(dir)
	}
	return nil
}
