package interop_test

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// extraApplets are busybox commands the interop tests use beyond
// testbundle's rootfs.
var extraApplets = []string{"stty"}

// podmanImage imports a busybox + observer image, built here without the
// network, into podman's default storage under a name unique to this test.
// Cleanup removes the image and every container made from it.
func podmanImage(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	podman := testutil.RequireBinary(t, "podman")
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := testbundle.MakeRootfs(t, rootfs); err != nil {
		t.Fatal(err)
	}
	for _, a := range extraApplets {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(dir, "rootfs.tar")
	if err := tarDir(rootfs, archive); err != nil {
		t.Fatalf("archive the rootfs: %v", err)
	}
	name := "localhost/" + unique("berth-interop") + ":latest"
	if res := run(t, podman, "import", "--quiet", archive, name); res.code != 0 {
		t.Fatalf("podman import %s: %s", name, res)
	}
	t.Cleanup(func() {
		res := run(t, podman, "ps", "--all", "--quiet", "--filter", "ancestor="+name)
		if ids := strings.Fields(res.stdout); len(ids) > 0 {
			t.Errorf("containers of %s left: %v", name, ids)
			run(t, podman, append([]string{"rm", "--force", "--time", "0"}, ids...)...)
		}
		if res := run(t, podman, "rmi", "--force", name); res.code != 0 {
			t.Errorf("podman rmi %s: %s", name, res)
		}
	})
	return name
}

// tarDir writes the tree at dir to a tar file, owned by root.
func tarDir(dir, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
