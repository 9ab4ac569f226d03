package volume

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-dev/berth/archive"
)

// The export format: a tar stream whose entries are the volume's tree
// under "data/" ("data/" itself carries the volume root's owner and
// mode), then, last, the manifest:
//
//	data/                 directory: the volume's root
//	data/<path>           the volume's tree, as archive.Tar writes it
//	MANIFEST.json         {"version":1,"algorithm":"sha256",
//	                       "files":{"<path>":"<hex>",...},
//	                       "stream":"<hex>"}
//
// files holds the SHA-256 of every regular file's content, by its path
// in the volume; stream the SHA-256 of every byte of the tar stream
// before the manifest's header. Any tar tool can unpack an export.
const (
	dataPrefix   = "data/"
	manifestName = "MANIFEST.json"
	// maxManifest bounds the manifest read at import (about a million
	// files).
	maxManifest = 128 << 20
	// blockSize is tar's.
	blockSize = 512
)

// manifest is the last entry of an export.
type manifest struct {
	Version   int               `json:"version"`
	Algorithm string            `json:"algorithm"`
	Files     map[string]string `json:"files"`
	Stream    string            `json:"stream"`
}

// hashWriter hashes what goes through it.
type hashWriter struct {
	w io.Writer
	h hash.Hash
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	return n, err
}

// writeArchive writes the tree below dir to w in the export format.
func writeArchive(ctx context.Context, w io.Writer, dir string) (err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := archive.Tar(ctx, pw, dir)
		pw.CloseWithError(err)
		done <- err
	}()
	defer func() {
		pr.CloseWithError(errors.New("export ended"))
		if terr := <-done; err == nil && terr != nil {
			err = terr
		}
	}()
	hw := &hashWriter{w: w, h: sha256.New()}
	tw := tar.NewWriter(hw)
	root := &tar.Header{Typeflag: tar.TypeDir, Name: dataPrefix, Mode: int64(fi.Mode().Perm()) | modeExtra(fi.Mode()),
		ModTime: fi.ModTime().Truncate(time.Second), Format: tar.FormatPAX}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		root.Uid, root.Gid = int(st.Uid), int(st.Gid)
	}
	if err := tw.WriteHeader(root); err != nil {
		return err
	}
	m := manifest{Version: 1, Algorithm: "sha256", Files: map[string]string{}}
	tr := tar.NewReader(pr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", dir, err)
		}
		name := hdr.Name
		hdr.Name = dataPrefix + name
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = dataPrefix + hdr.Linkname
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("export %s: %w", dir, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		h := sha256.New()
		if _, err := io.Copy(tw, io.TeeReader(tr, h)); err != nil {
			return fmt.Errorf("export %s: %s: %w", dir, name, err)
		}
		m.Files[strings.TrimSuffix(name, "/")] = hex.EncodeToString(h.Sum(nil))
	}
	// Flush pads the last entry: the stream checksum covers everything
	// up to the manifest's header.
	if err := tw.Flush(); err != nil {
		return err
	}
	m.Stream = hex.EncodeToString(hw.h.Sum(nil))
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now().Truncate(time.Second), Format: tar.FormatUSTAR}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	return tw.Close()
}

// modeExtra is the setuid, setgid and sticky bits of m in tar's octal.
func modeExtra(m os.FileMode) int64 {
	var x int64
	if m&os.ModeSetuid != 0 {
		x |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		x |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		x |= 0o1000
	}
	return x
}

// hashReader hashes what is read through it and can tell the hash of
// the stream up to the next tar block boundary.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (hr *hashReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	return n, err
}

// boundary is the hash of the stream up to where the next header
// starts: what was read, plus the padding of the last entry not read
// yet. tar.Reader reads exactly an entry's data, and pads with zeros.
func (hr *hashReader) boundary() (string, error) {
	state, err := hr.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return "", err
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return "", err
	}
	c.Write(make([]byte, (blockSize-hr.n%blockSize)%blockSize))
	return hex.EncodeToString(c.Sum(nil)), nil
}

// corrupt is the class of a bad export archive's errors.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

// readArchive decodes an export stream: it hands each entry of the
// volume to emit, named as archive.Apply expects ("./" the root, paths
// relative to it; hard links likewise), the body of a regular file to be
// read by emit or not; then it checks every regular file and the whole
// stream against the manifest. The error names the first file that
// failed. emit's own errors are returned as they are.
func readArchive(r io.Reader, emit func(hdr *tar.Header, body io.Reader) error) error {
	hr := &hashReader{r: r, h: sha256.New()}
	tr := tar.NewReader(hr)
	got := map[string]string{}
	var m *manifest
	var streamSum string
	for i := 1; ; i++ {
		before, err := hr.boundary()
		if err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt("archive entry %d: %v", i, err)
		}
		if m != nil {
			return corrupt("archive entry %d (%q): entries after the manifest", i, hdr.Name)
		}
		if hdr.Name == manifestName {
			if m, err = readManifest(tr, hdr); err != nil {
				return err
			}
			streamSum = before
			continue
		}
		name, err := volumePath(hdr.Name)
		if err != nil {
			return corrupt("archive entry %d: %v", i, err)
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, err = volumePath(hdr.Linkname); err != nil || hdr.Linkname == "./" {
				return corrupt("archive entry %d (%q): hard link outside the volume", i, name)
			}
		}
		if hdr.Typeflag != tar.TypeReg {
			if err := emit(hdr, nil); err != nil {
				return err
			}
			continue
		}
		if _, dup := got[name]; dup {
			return corrupt("archive entry %d: %q appears twice", i, name)
		}
		h := sha256.New()
		body := &readErr{r: io.TeeReader(tr, h)}
		err = emit(hdr, body)
		if body.err != nil {
			// A cut or malformed stream, whatever emit made of it.
			return corrupt("file %q: %v", name, body.err)
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return corrupt("file %q: %v", name, err)
		}
		got[name] = hex.EncodeToString(h.Sum(nil))
	}
	if m == nil {
		return corrupt("archive has no %s: not a volume export, or truncated", manifestName)
	}
	return verify(m, got, streamSum)
}

// verify compares what was read with the manifest.
func verify(m *manifest, got map[string]string, streamSum string) error {
	for _, name := range slices.Sorted(maps.Keys(got)) {
		want, ok := m.Files[name]
		if !ok {
			return corrupt("file %q is not in the manifest", name)
		}
		if got[name] != want {
			return corrupt("file %q: checksum mismatch: got sha256:%s, want sha256:%s", name, got[name], want)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		if _, ok := got[name]; !ok {
			return corrupt("file %q is in the manifest but not in the archive", name)
		}
	}
	if streamSum != m.Stream {
		return corrupt("archive checksum mismatch: got sha256:%s, want sha256:%s", streamSum, m.Stream)
	}
	return nil
}

func readManifest(tr io.Reader, hdr *tar.Header) (*manifest, error) {
	if hdr.Typeflag != tar.TypeReg || hdr.Size > maxManifest {
		return nil, corrupt("%s: not a regular file of at most %d bytes", manifestName, maxManifest)
	}
	data, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return nil, corrupt("%s: %v", manifestName, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, corrupt("%s: %v", manifestName, err)
	}
	if m.Version != 1 || m.Algorithm != "sha256" || m.Files == nil {
		return nil, corrupt("%s: version %d, algorithm %q: want version 1, sha256", manifestName, m.Version, m.Algorithm)
	}
	return &m, nil
}

// readErr remembers the error its reader returned, other than EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// volumePath turns an archive name under data/ into a name inside the
// volume ("./" for the root itself).
func volumePath(name string) (string, error) {
	if name == "data" || name == dataPrefix {
		return "./", nil
	}
	rest, ok := strings.CutPrefix(name, dataPrefix)
	if !ok || rest == "" {
		return "", fmt.Errorf("%q is not under %s", name, dataPrefix)
	}
	return rest, nil
}
