package engine_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// TestSaveLoad: docker save -o, remove, docker load -i gives the same
// image back under the same name.
func TestSaveLoad(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "saved", "saved", "v1")
	ref := reg.Ref("saved", ":v1")
	d.OK("pull", ref)
	d.OK("tag", ref, "second:v2")
	archive := filepath.Join(t.TempDir(), "images.tar")
	d.OK("save", "-o", archive, ref, "second:v2")
	if fi, err := os.Stat(archive); err != nil || fi.Size() < 1024 {
		t.Fatalf("docker save -o: %v, %v", fi, err)
	}
	d.OK("rmi", ref, "second:v2")
	out := d.OK("load", "-i", archive)
	for _, want := range []string{"Loaded image: " + ref, "Loaded image: second:v2"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker load output lacks %q:\n%s", want, out)
		}
	}
	if got := strings.TrimSpace(d.OK("image", "inspect", "--format", "{{.Id}}", "second:v2")); got != img.Config.Digest.String() {
		t.Errorf("loaded image ID: got %s, want %s", got, img.Config.Digest)
	}
	// Loading what is there already is no error.
	if out := d.OK("load", "-q", "-i", archive); !strings.Contains(out, "Loaded image: "+ref) {
		t.Errorf("second docker load: got %q", out)
	}
	// Something that is not an image archive.
	junk := filepath.Join(t.TempDir(), "junk.tar")
	os.WriteFile(junk, []byte("this is not a tar archive"), 0o644)
	if stderr := d.Fail("load", "-i", junk); stderr == "" {
		t.Errorf("docker load of junk: no error message")
	}
}

// TestImport: docker import of a rootfs tarball with --change and
// --message.
func TestImport(t *testing.T) {
	d := newDaemon(t)
	rootfs, err := testimage.Tar([]testimage.File{
		{Name: "etc/", Type: tar.TypeDir}, {Name: "etc/motd", Data: []byte("imported\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "rootfs.tar")
	os.WriteFile(src, rootfs, 0o644)
	out := d.OK("import", "--change", `CMD ["/bin/echo","hi"]`, "--change", "ENV A=b", "--change", "LABEL team=berth",
		"--message", "from a test", src, "imported:v1")
	id := strings.TrimSpace(out)
	if err := digest.Digest(id).Validate(); err != nil {
		t.Fatalf("docker import printed %q, want an image ID: %v", out, err)
	}
	for tmpl, want := range map[string]string{
		"{{.Id}}":                 id,
		"{{json .Config.Cmd}}":    `["/bin/echo","hi"]`,
		"{{json .Config.Env}}":    `["A=b"]`,
		"{{.Config.Labels.team}}": "berth",
		"{{len .RootFS.Layers}}":  "1",
		"{{.RootFS.Layers}}":      "[" + digest.FromBytes(rootfs).String() + "]",
	} {
		if got := strings.TrimSpace(d.OK("image", "inspect", "--format", tmpl, "imported:v1")); got != want {
			t.Errorf("inspect %s of the imported image: got %q, want %q", tmpl, got, want)
		}
	}
	if got := d.OK("history", "--format", "{{.Comment}}", "imported:v1"); !strings.Contains(got, "from a test") {
		t.Errorf("docker history comment: got %q, want the import message", got)
	}
	// The label filter of docker images finds it.
	if got := strings.TrimSpace(d.OK("images", "--filter", "label=team=berth", "--format", "{{.Repository}}:{{.Tag}}")); got != "imported:v1" {
		t.Errorf("docker images --filter label=team=berth: got %q, want imported:v1", got)
	}
	// Import from stdin without a name: a dangling image.
	out = d.DockerIn(bytes.NewReader(rootfs), "import", "-").Stdout
	if got := strings.TrimSpace(d.OK("images", "-q", "--no-trunc", "--filter", "dangling=true")); got != strings.TrimSpace(out) {
		t.Errorf("dangling images after import -: got %q, want %q", got, strings.TrimSpace(out))
	}
	// docker image prune removes the dangling one only.
	prune := d.OK("image", "prune", "-f")
	if !strings.Contains(prune, "deleted: "+strings.TrimSpace(out)) || !strings.Contains(prune, "Total reclaimed space:") {
		t.Errorf("docker image prune: got\n%s", prune)
	}
	if got := strings.TrimSpace(d.OK("images", "-q")); got == "" || strings.Contains(d.OK("images", "-q", "--no-trunc"), strings.TrimSpace(out)) {
		t.Errorf("images after prune: got %q, want imported:v1 only", got)
	}
	if stderr := d.Fail("import", "--change", "BOGUS x", src); !strings.Contains(strings.ToLower(stderr), "bogus") {
		t.Errorf("docker import with a bad change: got %q, want it named", stderr)
	}
}

// TestPush: docker push to another repository of the registry, read
// back with skopeo.
func TestPush(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "pushme", "src", "v1")
	d.OK("pull", reg.Ref("src", ":v1"))
	dest := reg.Ref("dest/app", ":v2")
	d.OK("tag", reg.Ref("src", ":v1"), dest)
	out := d.OK("push", dest)
	for _, want := range []string{"The push refers to repository [" + reg.Host + "/dest/app]", "v2: digest: sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker push output lacks %q:\n%s", want, out)
		}
	}
	root, blobs := testimage.Pull(t, dest, "")
	if !strings.Contains(out, "digest: "+root.Digest.String()) {
		t.Errorf("docker push printed a digest other than the registry's %s:\n%s", root.Digest, out)
	}
	var m struct {
		Config struct{ Digest digest.Digest }
		Layers []struct{ Digest digest.Digest }
	}
	if err := json.Unmarshal(blobs[root.Digest], &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.Digest != img.Config.Digest || len(m.Layers) != len(img.Layers) {
		t.Errorf("pushed manifest: got config %s and %d layers, want %s and %d", m.Config.Digest, len(m.Layers), img.Config.Digest, len(img.Layers))
	}
	// The pushed repository now appears among the image's digests.
	if got := d.OK("image", "inspect", "--format", "{{.RepoDigests}}", dest); !strings.Contains(got, reg.Host+"/dest/app@"+root.Digest.String()) {
		t.Errorf("RepoDigests after push: got %s", got)
	}
	if stderr := d.Fail("push", reg.Ref("dest/app", ":nope")); !strings.Contains(stderr, "does not exist locally") {
		t.Errorf("docker push of a missing tag: got %q", stderr)
	}
}

// TestLogin: a registry with basic auth; the CLI's credentials go with
// each pull and push (X-Registry-Auth), berthd keeps none.
func TestLogin(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{Auth: testregistry.AuthBasic})
	pushed(t, reg, "private", "private", "v1")
	ref := reg.Ref("private", ":v1")

	if stderr := d.Fail("pull", ref); !strings.Contains(strings.ToLower(stderr), "auth") {
		t.Errorf("docker pull without login: got %q, want an authentication error", stderr)
	}
	if stderr := d.Fail("login", "-u", reg.User, "-p", "wrong-password", reg.Host); !strings.Contains(strings.ToLower(stderr), "unauthorized") {
		t.Errorf("docker login with a wrong password: got %q, want unauthorized", stderr)
	}
	r := d.DockerIn(strings.NewReader(reg.Password), "login", "-u", reg.User, "--password-stdin", reg.Host)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Login Succeeded") {
		t.Fatalf("docker login: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	d.OK("pull", ref)
	d.OK("tag", ref, reg.Ref("private/copy", ":v1"))
	d.OK("push", reg.Ref("private/copy", ":v1"))
	testimage.Pull(t, reg.Ref("private/copy", ":v1"), reg.Creds())
	d.OK("logout", reg.Host)
	d.OK("rmi", ref)
	if stderr := d.Fail("pull", ref); !strings.Contains(strings.ToLower(stderr), "auth") {
		t.Errorf("docker pull after logout: got %q, want an authentication error", stderr)
	}
}
