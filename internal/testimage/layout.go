package testimage

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// WriteLayout writes an OCI image layout at dir (created if needed) holding
// blobs, with root tagged tag in index.json.
func WriteLayout(t testing.TB, dir, tag string, root ocispec.Descriptor, blobs Blobs) {
	t.Helper()
	if err := writeLayout(dir, tag, root, blobs); err != nil {
		t.Fatalf("write OCI layout %s: %v", dir, err)
	}
}

func writeLayout(dir, tag string, root ocispec.Descriptor, blobs Blobs) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	for d, b := range blobs {
		if err := os.WriteFile(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	root.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	idx, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{root}})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), idx, 0o644)
}

// ReadLayout reads the layout at dir: the descriptor tagged tag in
// index.json and every blob.
func ReadLayout(t testing.TB, dir, tag string) (ocispec.Descriptor, Blobs) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil {
		t.Fatalf("read layout: %v", err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("parse %s/index.json: %v", dir, err)
	}
	var root ocispec.Descriptor
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == tag {
			root = m
		}
	}
	if root.Digest == "" {
		t.Fatalf("layout %s has no manifest tagged %q", dir, tag)
	}
	blobs := Blobs{}
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatalf("read layout blobs: %v", err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if got := digest.FromBytes(data); got != d {
			t.Fatalf("layout blob %s has digest %s", d, got)
		}
		blobs[d] = data
	}
	return root, blobs
}

// Skopeo runs skopeo with args in an environment of its own (HOME, auth
// file and blob-info cache in a temporary directory, so nothing the host
// has configured or cached changes what it does) and returns its stdout.
func Skopeo(t testing.TB, args ...string) []byte {
	t.Helper()
	bin := testutil.RequireBinary(t, "skopeo")
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--insecure-policy"}, args...)...)
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + home,
		"REGISTRY_AUTH_FILE=" + filepath.Join(home, "auth.json"),
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Push copies root and blobs with skopeo to dest ("HOST/repo:tag") over
// plain HTTP, every platform of an index and with digests preserved. creds
// is "user:password" or "". OCI content goes through an OCI image layout;
// Docker schema2 content through skopeo's dir: format, since skopeo's OCI
// layout reader only looks at OCI media types.
func Push(t testing.TB, root ocispec.Descriptor, blobs Blobs, dest, creds string) {
	t.Helper()
	dir := t.TempDir()
	src := "oci:" + dir + ":push"
	if strings.HasPrefix(root.MediaType, "application/vnd.docker.") {
		writeDir(t, dir, root, blobs)
		src = "dir:" + dir
	} else {
		WriteLayout(t, dir, "push", root, blobs)
	}
	args := []string{"copy", "--quiet", "--all", "--preserve-digests", "--dest-tls-verify=false"}
	if creds != "" {
		args = append(args, "--dest-creds", creds)
	}
	Skopeo(t, append(args, src, "docker://"+dest)...)
}

// writeDir writes skopeo's dir: format: a version file, the root as
// manifest.json, the manifests of an index as DIGEST.manifest.json, and
// every blob under its encoded digest.
func writeDir(t testing.TB, dir string, root ocispec.Descriptor, blobs Blobs) {
	t.Helper()
	files := map[string][]byte{
		"version":       []byte("Directory Transport Version: 1.1\n"),
		"manifest.json": blobs[root.Digest],
	}
	var idx ocispec.Index
	if err := json.Unmarshal(blobs[root.Digest], &idx); err == nil {
		for _, m := range idx.Manifests {
			files[m.Digest.Encoded()+".manifest.json"] = blobs[m.Digest]
		}
	}
	for d, b := range blobs {
		files[d.Encoded()] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
}

// Pull copies src ("HOST/repo:tag" or "HOST/repo@digest") with skopeo, every
// platform and unchanged, and returns its root descriptor (media type,
// digest, size) and every blob, manifests included.
func Pull(t testing.TB, src, creds string) (ocispec.Descriptor, Blobs) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false"}
	if creds != "" {
		args = append(args, "--src-creds", creds)
	}
	Skopeo(t, append(args, "docker://"+src, "dir:"+dir)...)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	blobs := Blobs{}
	for _, e := range entries {
		if e.Name() == "version" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		blobs.Add(b)
	}
	man, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(man, &probe)
	return ocispec.Descriptor{MediaType: probe.MediaType, Digest: digest.FromBytes(man), Size: int64(len(man))}, blobs
}

// BusyboxFiles returns the files of a minimal busybox root: the host's
// static busybox as /bin/busybox and /bin/sh as a symlink to it.
func BusyboxFiles(t testing.TB) []File {
	t.Helper()
	data, err := os.ReadFile(testbundle.Busybox(t))
	if err != nil {
		t.Fatalf("read busybox: %v", err)
	}
	return []File{
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/busybox", Mode: 0o755, Data: data},
		{Name: "bin/sh", Type: tar.TypeSymlink, Link: "busybox"},
	}
}

// Small returns a two-layer image of small text files whose content
// depends on name, so different names give different digests.
func Small(t testing.TB, name string, c Compression, docker bool) *Image {
	t.Helper()
	return Build(t, Spec{
		Docker: docker,
		Cmd:    []string{"/bin/sh"},
		Layers: []Layer{
			{Compression: c, Files: []File{{Name: "etc/", Type: tar.TypeDir}, {Name: "etc/name", Data: []byte(name + "\n")}}},
			{Compression: c, Files: []File{{Name: "data", Data: []byte(fmt.Sprintf("payload of %s\n", name))}}},
		},
	})
}
