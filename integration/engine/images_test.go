package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// pushed puts a small two-layer image at reg/repo:tag and returns it.
func pushed(t *testing.T, reg *testregistry.Registry, name, repo, tag string) *testimage.Image {
	t.Helper()
	img := testimage.Small(t, name, testimage.Gzip, false)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref(repo, ":"+tag), reg.Creds())
	return img
}

// TestPullListInspect pulls from a registry and looks at the image the
// ways docker users do.
func TestPullListInspect(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "app", "app", "v1")
	ref := reg.Ref("app", ":v1")

	out := d.OK("pull", ref)
	for _, want := range []string{"v1: Pulling from app", "Pull complete", "Digest: " + img.Manifest.Digest.String(),
		"Status: Downloaded newer image for " + ref, ref} {
		if !strings.Contains(out, want) {
			t.Errorf("docker pull output lacks %q:\n%s", want, out)
		}
	}
	if out := d.OK("pull", ref); !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Errorf("second docker pull: got\n%s\nwant 'Image is up to date'", out)
	}

	id := img.Config.Digest.String()
	short := img.Config.Digest.Encoded()[:12]
	table := lines(d.OK("images"))
	if len(table) != 2 || !strings.HasPrefix(table[0], "REPOSITORY") {
		t.Fatalf("docker images: got %q, want a header and one image", table)
	}
	if f := strings.Fields(table[1]); len(f) < 3 || f[0] != reg.Host+"/app" || f[1] != "v1" || f[2] != short {
		t.Errorf("docker images row: got %q, want %s/app v1 %s ...", table[1], reg.Host, short)
	}
	if got := strings.TrimSpace(d.OK("images", "-q")); got != short {
		t.Errorf("docker images -q: got %q, want %q", got, short)
	}
	if got := strings.TrimSpace(d.OK("images", "-q", "--no-trunc")); got != id {
		t.Errorf("docker images -q --no-trunc: got %q, want %q", got, id)
	}
	if got := strings.TrimSpace(d.OK("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")); got != ref+" "+short {
		t.Errorf("docker images --format: got %q, want %q", got, ref+" "+short)
	}
	if got := d.OK("images", "--digests"); !strings.Contains(got, img.Manifest.Digest.String()) {
		t.Errorf("docker images --digests lacks %s:\n%s", img.Manifest.Digest, got)
	}
	for filter, want := range map[string]string{
		"reference=" + reg.Host + "/app": short, "reference=" + reg.Host + "/app:v1": short, "reference=nothing*": "",
		"dangling=true": "", "dangling=false": short, "before=" + id: "",
	} {
		if got := strings.TrimSpace(d.OK("images", "-q", "--filter", filter)); got != want {
			t.Errorf("docker images -q --filter %s: got %q, want %q", filter, got, want)
		}
	}
	if stderr := d.Fail("images", "--filter", "colour=blue"); !strings.Contains(stderr, "invalid filter 'colour'") {
		t.Errorf("docker images --filter colour=blue: got %q, want invalid filter", stderr)
	}

	var layers []string
	for _, l := range img.DiffIDs {
		layers = append(layers, l.String())
	}
	inspect := map[string]string{
		"{{.Id}}":                     id,
		"{{.RootFS.Type}}":            "layers",
		"{{.RootFS.Layers}}":          "[" + strings.Join(layers, " ") + "]",
		"{{.Config.Cmd}}":             "[/bin/sh]",
		"{{.Os}}/{{.Architecture}}":   "linux/" + img.Manifest.Platform.Architecture,
		"{{.Created}}":                testimage.Epoch().Format("2006-01-02T15:04:05Z"),
		"{{index .RepoTags 0}}":       ref,
		"{{index .RepoDigests 0}}":    reg.Host + "/app@" + img.Manifest.Digest.String(),
		"{{.GraphDriver.Name}}":       "overlayfs",
		"{{gt .Size 0}}":              "true",
		"{{len .RepoTags}}":           "1",
		"{{json .Config.Entrypoint}}": "null",
	}
	for tmpl, want := range inspect {
		for _, name := range []string{ref, short, id} {
			if got := strings.TrimSpace(d.OK("image", "inspect", "--format", tmpl, name)); got != want {
				t.Errorf("docker image inspect --format %s %s: got %q, want %q", tmpl, name, got, want)
			}
		}
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(d.OK("inspect", ref)), &raw); err != nil || len(raw) != 1 {
		t.Fatalf("docker inspect: %v (%d objects)", err, len(raw))
	}

	hist := lines(d.OK("history", ref))
	if len(hist) != 3 || !strings.HasPrefix(hist[1], short) {
		t.Errorf("docker history: got %q, want a header and two layers, the newest named %s", hist, short)
	}
	if got := lines(d.OK("history", "-q", "--no-trunc", ref)); len(got) != 2 || got[0] != id || got[1] != "<missing>" {
		t.Errorf("docker history -q --no-trunc: got %q, want [%s <missing>]", got, id)
	}
}

// TestTagRemove: untagging a name, deleting by ID, and the collector
// leaving no blob or layer behind.
func TestTagRemove(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "tagme", "tagme", "v1")
	ref := reg.Ref("tagme", ":v1")
	d.OK("pull", ref)
	id := img.Config.Digest.String()

	d.OK("tag", ref, "mine:one")
	d.OK("tag", img.Config.Digest.Encoded()[:12], "other/two")
	got := strings.Fields(d.OK("image", "inspect", "--format", "{{range .RepoTags}}{{.}} {{end}}", id))
	want := []string{ref, "mine:one", "other/two:latest"}
	if strings.Join(sorted(got), " ") != strings.Join(sorted(want), " ") {
		t.Errorf("RepoTags after docker tag: got %q, want %q", got, want)
	}
	if stderr := d.Fail("tag", "nope", "x"); !strings.Contains(stderr, "No such image: nope:latest") {
		t.Errorf("docker tag nope x: got %q, want No such image", stderr)
	}

	if out := d.OK("rmi", "mine:one"); strings.TrimSpace(out) != "Untagged: mine:one" {
		t.Errorf("docker rmi mine:one: got %q, want only Untagged: mine:one", out)
	}
	// By ID with names in two repositories: must be forced.
	if stderr := d.Fail("rmi", id); !strings.Contains(stderr, "image is referenced in multiple repositories") {
		t.Errorf("docker rmi ID: got %q, want a conflict", stderr)
	}
	d.OK("rmi", "other/two")
	out := d.OK("rmi", ref)
	for _, want := range []string{"Untagged: " + ref, "Untagged: " + reg.Host + "/tagme@" + img.Manifest.Digest.String(), "Deleted: " + id} {
		if !strings.Contains(out, want) {
			t.Errorf("docker rmi %s lacks %q:\n%s", ref, want, out)
		}
	}
	if got := strings.Count(out, "Deleted: "); got != 3 {
		t.Errorf("docker rmi: got %d Deleted lines, want 3 (the image, two layers):\n%s", got, out)
	}
	if got := strings.TrimSpace(d.OK("images", "-q")); got != "" {
		t.Errorf("docker images -q after rmi: got %q, want nothing", got)
	}
	if left := files(t, filepath.Join(d.Data, "content", "blobs")); len(left) != 0 {
		t.Errorf("blobs left after rmi: %q", left)
	}
	if left, _ := os.ReadDir(filepath.Join(d.Data, "snapshots")); len(left) != 0 {
		t.Errorf("snapshots left after rmi: %d", len(left))
	}
	if stderr := d.Fail("rmi", "nope"); !strings.Contains(stderr, "No such image: nope:latest") {
		t.Errorf("docker rmi nope: got %q, want No such image", stderr)
	}
	if stderr := d.Fail("image", "inspect", "nope"); !strings.Contains(stderr, "No such image: nope:latest") {
		t.Errorf("docker image inspect nope: got %q, want No such image", stderr)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestBadReferences: references the CLI would refuse itself, sent raw.
func TestBadReferences(t *testing.T) {
	d := newDaemon(t)
	cases := []struct {
		method, path string
		status       int
		want         string
	}{
		{"POST", "/v1.50/images/create?fromImage=Upper&tag=latest", 400, "invalid reference format"},
		{"POST", "/v1.50/images/create?fromImage=a//b", 400, "invalid reference format"},
		{"POST", "/v1.50/images/create?fromImage=busybox&platform=windows/amd64", 400, "not supported"},
		{"POST", "/v1.50/images/create", 400, "fromImage or fromSrc is required"},
		{"GET", "/v1.50/images/Upper/json", 400, "invalid reference format"},
		{"GET", "/v1.50/images/nope/json", 404, "No such image: nope:latest"},
		{"GET", "/v1.50/images/sha256:" + strings.Repeat("ab", 32) + "/json", 404, "No such image: sha256:"},
		{"DELETE", "/v1.50/images/nope", 404, "No such image: nope:latest"},
		{"POST", "/v1.50/images/nope/tag?repo=x", 404, "No such image"},
		{"POST", "/v1.50/images/nope/tag?repo=Bad", 400, "invalid reference format"},
		{"POST", "/v1.50/images/127.0.0.1:5000/nope/push?tag=v1", 404, "An image does not exist locally with the tag: 127.0.0.1:5000/nope"},
		{"GET", "/v1.50/images/get?names=nope", 404, "No such image"},
		{"GET", "/v1.50/images/json?filters=%7B", 400, "invalid filter"},
		{"POST", "/v1.50/images/create?fromSrc=http://example.com/x.tar", 501, "not supported"},
		{"POST", "/v1.50/images/create?fromImage=busybox", 400, "X-Registry-Auth"},
	}
	for _, c := range cases {
		var hdr []string
		if strings.HasSuffix(c.want, "X-Registry-Auth") {
			hdr = []string{"X-Registry-Auth", "!!!"}
		}
		status, _, body := d.API(c.method, c.path, nil, hdr...)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: got %d %s, want %d with %q", c.method, c.path, status, body, c.status, c.want)
		}
	}
	// A pull of an image the registry does not have fails clearly.
	reg := testregistry.Start(t, testregistry.Options{})
	if stderr := d.Fail("pull", reg.Ref("absent", ":v1")); !strings.Contains(stderr, "Error response from daemon") {
		t.Errorf("docker pull of a missing image: got %q", stderr)
	}
	if out := fmt.Sprint(d.Log()); strings.Contains(out, "panic") {
		t.Errorf("berthd panicked:\n%s", out)
	}
}
