package containers

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestHostMounts: every bind of the spec with a host source is part of
// docker cp's view, whoever added it; the runtime's own mounts are not.
func TestHostMounts(t *testing.T) {
	s := &Service{o: Options{DataRoot: t.TempDir()}}
	id := "c1"
	os.MkdirAll(s.bundleDir(id), 0o700)
	sp := specs.Spec{Mounts: []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/etc/hosts", Type: "bind", Source: "/data/c1/hosts", Options: []string{"rbind", "rprivate"}},
		{Destination: "/data", Source: "/srv/data", Options: []string{"bind", "ro"}},
		{Destination: "/vol", Type: "none", Source: "/var/lib/berth/volumes/v/_data", Options: []string{"rbind"}},
		{Destination: "/rel", Type: "bind", Source: "relative"},
	}}
	data, _ := json.Marshal(sp)
	os.WriteFile(filepath.Join(s.bundleDir(id), "config.json"), data, 0o600)
	got, err := s.hostMounts(id)
	if err != nil {
		t.Fatal(err)
	}
	want := []hostMount{
		{source: "/data/c1/hosts", destination: "/etc/hosts", rbind: true},
		{source: "/srv/data", destination: "/data", ro: true},
		{source: "/var/lib/berth/volumes/v/_data", destination: "/vol", rbind: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := s.hostMounts("missing"); err == nil {
		t.Error("a container without config.json: got no error")
	}
}

func TestFileMode(t *testing.T) {
	for _, tc := range []struct {
		in   uint32
		want fs.FileMode
	}{
		{unix.S_IFREG | 0o644, 0o644},
		{unix.S_IFDIR | 0o755, fs.ModeDir | 0o755},
		{unix.S_IFLNK | 0o777, fs.ModeSymlink | 0o777},
		{unix.S_IFCHR | 0o600, fs.ModeDevice | fs.ModeCharDevice | 0o600},
		{unix.S_IFBLK | 0o600, fs.ModeDevice | 0o600},
		{unix.S_IFIFO | 0o600, fs.ModeNamedPipe | 0o600},
		{unix.S_IFSOCK | 0o600, fs.ModeSocket | 0o600},
		{unix.S_IFREG | unix.S_ISUID | unix.S_ISGID | 0o755, fs.ModeSetuid | fs.ModeSetgid | 0o755},
		{unix.S_IFDIR | unix.S_ISVTX | 0o777, fs.ModeDir | fs.ModeSticky | 0o777},
	} {
		if got := fileMode(tc.in); got != tc.want {
			t.Errorf("fileMode(%#o): got %v, want %v", tc.in, got, tc.want)
		}
	}
}
