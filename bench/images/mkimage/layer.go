package main

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
)

// mtime stamps every entry, so a layer's bytes depend only on the files.
var mtime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// chunk is the size of one random asset file.
const chunk = 1 << 20

// layer is one written layer blob.
type layer struct {
	digest       digest.Digest // of the gzip bytes
	diffID       digest.Digest // of the tar
	size         int64         // gzip bytes
	uncompressed int64         // tar bytes
	files        int           // regular files
}

// writeLayer writes the layer of s, index i, as a gzip blob at dst.
func writeLayer(dst string, i int, s spec) (layer, error) {
	f, err := os.Create(dst)
	if err != nil {
		return layer{}, err
	}
	defer f.Close()
	gzHash, tarHash := sha256.New(), sha256.New()
	gzCount := &counter{w: io.MultiWriter(f, gzHash)}
	zw, err := gzip.NewWriterLevel(gzCount, gzip.DefaultCompression)
	if err != nil {
		return layer{}, err
	}
	tarCount := &counter{w: io.MultiWriter(zw, tarHash)}
	tw := tar.NewWriter(tarCount)
	var files int
	if s.path == "" {
		files, err = writeRandom(tw, i, s.budget)
	} else {
		files, err = writeTree(tw, s.path, s.budget)
	}
	if err != nil {
		return layer{}, fmt.Errorf("layer %d: %w", i, err)
	}
	if err := tw.Close(); err != nil {
		return layer{}, err
	}
	if err := zw.Close(); err != nil {
		return layer{}, err
	}
	if err := f.Close(); err != nil {
		return layer{}, err
	}
	return layer{
		digest:       digest.NewDigest(digest.SHA256, gzHash),
		diffID:       digest.NewDigest(digest.SHA256, tarHash),
		size:         gzCount.n,
		uncompressed: tarCount.n,
		files:        files,
	}, nil
}

// writeRandom writes size incompressible bytes as files of up to chunk
// bytes under assets/i/.
func writeRandom(tw *tar.Writer, i int, size int64) (int, error) {
	dir := fmt.Sprintf("assets/%d/", i)
	for _, d := range []string{"assets/", dir} {
		if err := tw.WriteHeader(dirHeader(d, 0o755)); err != nil {
			return 0, err
		}
	}
	var seed [32]byte
	seed[0] = byte(i)
	rng := rand.NewChaCha8(seed)
	files := 0
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sasset-%04d.bin", dir, files), Mode: 0o644, Size: n, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return 0, err
		}
		if _, err := io.CopyN(tw, rng, n); err != nil {
			return 0, err
		}
		files++
	}
	return files, nil
}

// errFull ends a walk once the budget is spent.
var errFull = errors.New("budget spent")

// writeTree writes root's parents, then root's entries in lexical order:
// directories, symlinks and regular files (other types are skipped), the
// files up to budget bytes (0: all). Names are root's own path without the
// leading slash. Hard links become separate copies.
func writeTree(tw *tar.Writer, root string, budget int64) (int, error) {
	root = filepath.Clean(root)
	rel := strings.TrimPrefix(root, "/")
	parts := strings.Split(rel, "/")
	for j := 1; j < len(parts); j++ {
		if err := tw.WriteHeader(dirHeader(path.Join(parts[:j]...)+"/", 0o755)); err != nil {
			return 0, err
		}
	}
	files := 0
	left := budget
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "/")
		mode := int64(info.Mode().Perm())
		if info.Mode()&fs.ModeSetuid != 0 {
			mode |= 0o4000
		}
		if info.Mode()&fs.ModeSetgid != 0 {
			mode |= 0o2000
		}
		if info.Mode()&fs.ModeSticky != 0 {
			mode |= 0o1000
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(dirHeader(name+"/", mode))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: mode, ModTime: mtime})
		case info.Mode().IsRegular():
			if budget > 0 && info.Size() > left {
				if left < 64<<10 {
					return errFull
				}
				return nil // too big for what is left; smaller ones may fit
			}
			left -= info.Size()
			files++
			return copyFile(tw, p, name, mode, info.Size())
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return 0, err
	}
	return files, nil
}

func copyFile(tw *tar.Writer, p, name string, mode, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, size); err != nil {
		return fmt.Errorf("copy %s: %w", p, err)
	}
	return nil
}

func dirHeader(name string, mode int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: mtime}
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
