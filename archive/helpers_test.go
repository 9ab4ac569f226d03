package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// epoch is the mtime of test entries; whole seconds, so it survives Tar.
var epoch = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// ent is a tar entry for a test layer.
type ent struct {
	hdr  tar.Header
	body string
}

func file(name, body string, mode int64) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: epoch}, body: body}
}

func dir(name string, mode int64) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: epoch}}
}

func symlink(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: epoch}}
}

func hardlink(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, ModTime: epoch}}
}

func node(typ byte, name string, major, minor int64) ent {
	return ent{hdr: tar.Header{Typeflag: typ, Name: name, Mode: 0o640, Devmajor: major, Devminor: minor, ModTime: epoch}}
}

func whiteout(name string) ent { return file(name, "", 0o600) }

func (e ent) owner(uid, gid int) ent { e.hdr.Uid, e.hdr.Gid = uid, gid; return e }

func (e ent) xattr(name, value string) ent {
	if e.hdr.PAXRecords == nil {
		e.hdr.PAXRecords = map[string]string{}
	}
	e.hdr.PAXRecords[paxXattr+name] = value
	return e
}

func (e ent) mtime(t time.Time) ent { e.hdr.ModTime = t; return e }

func (e ent) mode(m int64) ent { e.hdr.Mode = m; return e }

// layer builds an uncompressed tar stream. Headers are written in PAX form
// so sub-second times and attributes survive.
func layer(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := e.hdr
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("write header %q: %v", h.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("write body %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// info is what the tests compare of a filesystem entry.
type info struct {
	Type     string // file, dir, symlink, char, block, fifo, whiteout
	Mode     fs.FileMode
	UID, GID int
	Data     string // file content digest, symlink target, device numbers
	Mtime    int64  // seconds
	Xattrs   string // sorted name=value list
	Ino      uint64 // for hard link checks
	Nlink    uint64
}

func (i info) String() string {
	return fmt.Sprintf("%s %v %d:%d %q mtime=%d xattrs=[%s]", i.Type, i.Mode, i.UID, i.GID, i.Data, i.Mtime, i.Xattrs)
}

// stat describes path without following it.
func stat(t testing.TB, path string) (info, bool) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return info{}, false
		}
		t.Fatalf("lstat %s: %v", path, err)
	}
	i := info{
		Mode:  fs.FileMode(st.Mode & 0o777),
		UID:   int(st.Uid),
		GID:   int(st.Gid),
		Mtime: st.Mtim.Sec,
		Ino:   st.Ino,
		Nlink: uint64(st.Nlink),
	}
	if st.Mode&unix.S_ISUID != 0 {
		i.Mode |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		i.Mode |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		i.Mode |= fs.ModeSticky
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		i.Type = "file"
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i.Data = digest(b)
	case unix.S_IFDIR:
		i.Type = "dir"
	case unix.S_IFLNK:
		i.Type = "symlink"
		l, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		i.Data = l
	case unix.S_IFCHR:
		i.Type = "char"
		if st.Rdev == 0 {
			i.Type = "whiteout"
		}
		i.Data = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		i.Type = "block"
		i.Data = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		i.Type = "fifo"
	default:
		i.Type = fmt.Sprintf("mode %o", st.Mode&unix.S_IFMT)
	}
	buf := make([]byte, 1<<16)
	n, err := unix.Llistxattr(path, buf)
	if err == nil && n > 0 {
		var kv []string
		for _, name := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00") {
			vb := make([]byte, 1<<16)
			m, err := unix.Lgetxattr(path, name, vb)
			if err != nil {
				t.Fatalf("lgetxattr %s %s: %v", path, name, err)
			}
			kv = append(kv, name+"="+string(vb[:m]))
		}
		sort.Strings(kv)
		i.Xattrs = strings.Join(kv, ",")
	}
	return i, true
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}

// tree describes every entry below root by its slash-separated relative name.
func tree(t testing.TB, root string) map[string]info {
	t.Helper()
	out := map[string]info{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		i, _ := stat(t, p)
		out[filepath.ToSlash(rel)] = i
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// sandbox is a layer directory inside a parent holding sentinel entries,
// to check that nothing beside the layer directory changes.
type sandbox struct {
	parent, dir string
	before      map[string]info
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	parent := t.TempDir()
	s := &sandbox{parent: parent, dir: filepath.Join(parent, "layer")}
	for _, d := range []string{s.dir, filepath.Join(parent, "sentinel-dir"), filepath.Join(parent, "etc")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"sentinel", "sentinel-dir/file", "etc/passwd"} {
		if err := os.WriteFile(filepath.Join(parent, f), []byte("sentinel "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.before = s.outside(t)
	return s
}

// outside describes the parent without the layer directory's content.
func (s *sandbox) outside(t testing.TB) map[string]info {
	t.Helper()
	all := tree(t, s.parent)
	for k := range all {
		if strings.HasPrefix(k, "layer/") {
			delete(all, k)
		}
	}
	// The layer directory's own mtime and mode may change.
	delete(all, "layer")
	return all
}

// check fails the test if anything beside the layer directory changed.
func (s *sandbox) check(t testing.TB) {
	t.Helper()
	after := s.outside(t)
	for k, b := range s.before {
		a, ok := after[k]
		switch {
		case !ok:
			t.Errorf("outside the layer: %s removed", k)
		case a.String() != b.String() || a.Nlink != b.Nlink:
			t.Errorf("outside the layer: %s changed: got %v (nlink %d), want %v (nlink %d)", k, a, a.Nlink, b, b.Nlink)
		}
	}
	for k := range after {
		if _, ok := s.before[k]; !ok {
			t.Errorf("outside the layer: %s created", k)
		}
	}
}

func isRoot() bool { return os.Geteuid() == 0 }

// baseOpts are options that work with or without root.
func baseOpts(mode WhiteoutMode) ApplyOptions {
	return ApplyOptions{Whiteouts: mode, NoSameOwner: !isRoot()}
}
