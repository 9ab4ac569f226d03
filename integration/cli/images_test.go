package cli_test

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// rootfsTar writes a tarball of files (name → content) and returns its
// path.
func rootfsTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPullImages pulls from a registry and looks at the image the ways
// docker users do.
func TestPullImages(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "app", "app", "v1")
	ref := reg.Ref("app", ":v1")
	id := img.Config.Digest.String()
	short := img.Config.Digest.Encoded()[:12]

	out := d.OK("pull", ref)
	got := lines(out)
	var layers []string
	for _, l := range img.Layers {
		layers = append(layers, l.Digest.Encoded()[:12])
	}
	// Off a terminal: one line per change of a layer's status, no bars.
	want := []string{"v1: Pulling from app"}
	for _, status := range []string{"Pulling fs layer", "Downloading", "Pull complete"} {
		for _, l := range layers {
			want = append(want, l+": "+status)
		}
	}
	want = append(want, "Digest: "+img.Manifest.Digest.String(), "Status: Downloaded newer image for "+ref, ref)
	for _, w := range want {
		n := 0
		for _, g := range got {
			if g == w {
				n++
			}
		}
		if n != 1 {
			t.Errorf("berth pull: %q printed %d times, want once:\n%s", w, n, out)
		}
	}
	if got[0] != want[0] || got[len(got)-1] != ref || strings.Contains(out, "[=") || strings.Contains(out, "\x1b") {
		t.Errorf("berth pull output:\n%s", out)
	}
	if out := d.OK("pull", ref); !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Errorf("second berth pull: got\n%s", out)
	}
	if out := d.OK("image", "pull", "-q", ref); out != ref+"\n" {
		t.Errorf("berth image pull -q: got %q, want %q", out, ref+"\n")
	}

	table := lines(d.OK("images"))
	if len(table) != 2 || strings.Join(strings.Fields(table[0]), " ") != "REPOSITORY TAG IMAGE ID CREATED SIZE" {
		t.Fatalf("berth images: got %q, want a header and one image", table)
	}
	if f := strings.Fields(table[1]); len(f) < 5 || f[0] != reg.Host+"/app" || f[1] != "v1" || f[2] != short ||
		!strings.HasSuffix(table[1], "B") || !strings.Contains(table[1], " ago ") {
		t.Errorf("berth images row: got %q, want %s/app v1 %s ... ago SIZE", table[1], reg.Host, short)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"images", "-q"}, short},
		{[]string{"image", "ls", "-q", "--no-trunc"}, id},
		{[]string{"images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"}, ref + " " + short},
		{[]string{"images", "--format", `table {{.Repository}}\t{{.Tag}}`}, fmt.Sprintf("%-*sTAG\n%s/app   v1", len(reg.Host)+7, "REPOSITORY", reg.Host)},
		{[]string{"images", "-q", reg.Host + "/app"}, short},
		{[]string{"images", "-q", "nothing"}, ""},
		{[]string{"images", "-q", "--filter", "reference=" + reg.Host + "/app:v1"}, short},
		{[]string{"images", "-q", "--filter", "dangling=true"}, ""},
		{[]string{"images", "--format", "{{.Digest}}", "--digests"}, img.Manifest.Digest.String()},
		{[]string{"image", "list", "-a", "--format", "{{.Tag}}"}, "v1"},
	} {
		if got := strings.TrimSpace(d.OK(tc.args...)); got != tc.want {
			t.Errorf("berth %s: got %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(d.OK("images", "--format", "json")), &row); err != nil || row["ID"] != short ||
		row["Repository"] != reg.Host+"/app" || row["Tag"] != "v1" || row["Size"] == "" || !strings.HasSuffix(row["CreatedSince"], " ago") {
		t.Errorf("berth images --format json: got %v, %v", row, err)
	}
	if stderr := d.Fail(1, "images", "--format", "{{.Nope}}"); !strings.Contains(stderr, "can't evaluate field Nope") {
		t.Errorf("berth images --format {{.Nope}}: got %q", stderr)
	}
	if out := d.OK("images", "--digests"); !strings.Contains(lines(out)[0], "DIGEST") || !strings.Contains(out, img.Manifest.Digest.String()) {
		t.Errorf("berth images --digests:\n%s", out)
	}

	// Tag, and each name is a row; untag one.
	d.OK("tag", ref, "local/app:latest")
	if got := lines(d.OK("images", "--format", "{{.Repository}}:{{.Tag}}")); strings.Join(got, ",") != ref+",local/app:latest" {
		t.Errorf("berth images after tag: got %q", got)
	}
	if out := d.OK("rmi", "local/app"); out != "Untagged: local/app:latest\n" {
		t.Errorf("berth rmi local/app: got %q", out)
	}

	// History.
	hist := lines(d.OK("history", ref))
	if len(hist) != 3 || strings.Join(strings.Fields(hist[0]), " ") != "IMAGE CREATED CREATED BY SIZE COMMENT" || !strings.HasPrefix(hist[1], short) {
		t.Errorf("berth history: got %q, want a header and two layers, the newest %s", hist, short)
	}
	if got := lines(d.OK("history", "-q", "--no-trunc", ref)); len(got) != 2 || got[0] != id || got[1] != "<missing>" {
		t.Errorf("berth history -q --no-trunc: got %q", got)
	}
	if got := lines(d.OK("image", "history", "-H=false", "--format", "{{.Size}}|{{.CreatedSince}}", ref)); len(got) != 2 ||
		strings.Contains(got[0], "B|") || !strings.Contains(got[0], "T") {
		t.Errorf("berth image history -H=false: got %q, want raw sizes and RFC 3339 dates", got)
	}

	// Inspect.
	for tmpl, want := range map[string]string{
		"{{.ID}}":                     id,
		"{{.RootFS.Type}}":            "layers",
		"{{.Config.Cmd}}":             "[/bin/sh]",
		"{{json .Config.Cmd}}":        `["/bin/sh"]`,
		"{{index .RepoTags 0}}":       ref,
		"{{upper .Os}}":               "LINUX",
		"{{join .Config.Cmd \",\"}}":  "/bin/sh",
		"{{gt .Size 0}}":              "true",
		"{{len .RootFS.Layers}}":      "2",
		"{{.GraphDriver.Name}}":       "overlayfs",
		"{{truncate .ID 10}}":         id[:10],
		"{{json .Config.Entrypoint}}": "null",
	} {
		for _, args := range [][]string{{"image", "inspect", "-f", tmpl, ref}, {"inspect", "--format", tmpl, short}} {
			if got := strings.TrimSpace(d.OK(args...)); got != want {
				t.Errorf("berth %s: got %q, want %q", strings.Join(args, " "), got, want)
			}
		}
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(d.OK("image", "inspect", ref, short)), &raw); err != nil || len(raw) != 2 || raw[0]["Id"] != id {
		t.Errorf("berth image inspect: %v, got %d objects", err, len(raw))
	}
	r := d.Berth("image", "inspect", ref, "nosuch:image")
	if r.Code != 1 || !strings.Contains(r.Stderr, "Error response from daemon: No such image: nosuch:image") || !strings.Contains(r.Stdout, id) {
		t.Errorf("berth image inspect with a missing image: got %s", r)
	}
	r = d.Berth("inspect", "nosuch")
	if r.Code != 1 || strings.TrimSpace(r.Stdout) != "[]" || !strings.Contains(r.Stderr, "No such object: nosuch") {
		t.Errorf("berth inspect nosuch: got %s", r)
	}
	if stderr := d.Fail(64, "inspect", "-f", "{{.ID", ref); !strings.Contains(stderr, "Template parsing error") {
		t.Errorf("berth inspect with a bad template: got %q", stderr)
	}

	// Remove by ID.
	out = d.OK("rmi", short)
	if !strings.Contains(out, "Untagged: "+ref) || !strings.Contains(out, "Deleted: "+id) {
		t.Errorf("berth rmi %s: got\n%s", short, out)
	}
	if out := d.OK("images", "-q"); out != "" {
		t.Errorf("berth images -q after rmi: got %q, want nothing", out)
	}
}

// TestSaveLoadImport: archives out and back in, by file and by pipe,
// and a rootfs tarball made an image with Dockerfile changes.
func TestSaveLoadImport(t *testing.T) {
	d := newDaemon(t)
	tarball := rootfsTar(t, map[string]string{"etc/motd": "welcome\n", "bin/tool": "#!/bin/sh\n"})
	out := d.OK("import", "--change", `CMD ["/bin/tool", "--flag"]`, "-c", "ENV A=b", "-c", "WORKDIR /srv", "-m", "from a tarball", tarball, "imp:v1")
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("berth import: got %q, want an image ID", out)
	}
	if got := strings.TrimSpace(d.OK("inspect", "-f", "{{.Config.Cmd}}|{{.Config.Env}}|{{.Config.WorkingDir}}|{{.Comment}}|{{.ID}}", "imp:v1")); got != "[/bin/tool --flag]|[A=b]|/srv|from a tarball|"+id {
		t.Errorf("berth inspect of the imported image: got %q", got)
	}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r := d.BerthIn(f, "image", "import", "-", "imp:stdin"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "sha256:") {
		t.Errorf("berth image import - from stdin: got %s", r)
	}
	if stderr := d.Fail(1, "import", "http://127.0.0.1:1/rootfs.tar"); !strings.Contains(stderr, "importing from a URL is not supported") {
		t.Errorf("berth import URL: got %q", stderr)
	}
	if stderr := d.Fail(1, "import", filepath.Join(t.TempDir(), "missing.tar")); !strings.Contains(stderr, "no such file") {
		t.Errorf("berth import of a missing file: got %q", stderr)
	}
	if stderr := d.Fail(1, "import", "--change", "FROBNICATE x", tarball); !strings.Contains(stderr, "Error response from daemon") {
		t.Errorf("berth import --change FROBNICATE: got %q", stderr)
	}

	// save -o, rmi, load -i.
	archive := filepath.Join(t.TempDir(), "imp.tar")
	if out := d.OK("save", "-o", archive, "imp:v1"); out != "" {
		t.Errorf("berth save -o: printed %q", out)
	}
	if st, err := os.Stat(archive); err != nil || st.Size() == 0 {
		t.Fatalf("berth save -o wrote %v, %v", st, err)
	}
	d.OK("rmi", "imp:v1")
	if out := d.OK("load", "-i", archive); out != "Loaded image: imp:v1\n" {
		t.Errorf("berth load -i: got %q, want 'Loaded image: imp:v1'", out)
	}
	if got := strings.TrimSpace(d.OK("images", "-q", "--no-trunc", "imp:v1")); got != id {
		t.Errorf("image after load: got %q, want %s", got, id)
	}
	if stderr := d.Fail(1, "save", "-o", "/nonexistent/dir/x.tar", "imp:v1"); !strings.Contains(stderr, "nonexistent") {
		t.Errorf("berth save -o into a missing directory: got %q", stderr)
	}
	if stderr := d.Fail(1, "save", "nosuch:image"); !strings.Contains(stderr, "No such image") {
		t.Errorf("berth save of a missing image: got %q", stderr)
	}

	// save to a pipe, load from one.
	r := d.Berth("image", "save", "imp:v1")
	if r.Code != 0 || len(r.Stdout) < 1024 {
		t.Fatalf("berth image save to stdout: exit %d, %d bytes, %s", r.Code, len(r.Stdout), r.Stderr)
	}
	d.OK("rmi", "imp:v1")
	if r := d.BerthIn(strings.NewReader(r.Stdout), "load", "-q"); r.Code != 0 || r.Stdout != "Loaded image: imp:v1\n" {
		t.Errorf("berth load -q from stdin: got %s", r)
	}
	if r := d.BerthIn(strings.NewReader("not a tarball"), "load"); r.Code != 1 || !strings.Contains(r.Stderr, "Error") {
		t.Errorf("berth load of garbage: got %s", r)
	}
}

// TestLoginPushPull: credentials kept by login go with pulls and pushes
// to that registry, and logout takes them away.
func TestLoginPushPull(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{Auth: testregistry.AuthBasic})
	img := pushed(t, reg, "secret", "secret", "v1")
	ref := reg.Ref("secret", ":v1")

	if r := d.Berth("pull", ref); r.Code != 1 || !strings.Contains(r.Stderr, "Error response from daemon") {
		t.Errorf("berth pull without credentials: got %s", r)
	}
	if r := d.Berth("login", "-u", reg.User, "-p", "wrong", reg.Host); r.Code != 1 || !strings.Contains(r.Stderr, "WARNING! Using --password via the CLI is insecure") {
		t.Errorf("berth login with a wrong password: got %s", r)
	}
	if _, err := os.Stat(filepath.Join(d.Config, "config.json")); err == nil {
		t.Errorf("a failed login wrote config.json")
	}
	if r := d.BerthIn(strings.NewReader(reg.Password+"\n"), "login", "--password-stdin", reg.Host); r.Code != 1 || !strings.Contains(r.Stderr, "Must provide --username with --password-stdin") {
		t.Errorf("berth login --password-stdin without -u: got %s", r)
	}
	if r := d.BerthIn(strings.NewReader(""), "login", reg.Host); r.Code != 1 || !strings.Contains(r.Stderr, "non TTY") {
		t.Errorf("berth login without credentials off a terminal: got %s", r)
	}
	r := d.BerthIn(strings.NewReader(reg.Password+"\n"), "login", "-u", reg.User, "--password-stdin", "http://"+reg.Host+"/v2/")
	if r.Code != 0 || r.Stdout != "Login Succeeded\n" {
		t.Fatalf("berth login --password-stdin: got %s", r)
	}
	b, err := os.ReadFile(filepath.Join(d.Config, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(b, &cf); err != nil || cf.Auths[reg.Host].Auth == "" {
		t.Fatalf("config.json after login: %v\n%s", err, b)
	}

	out := d.OK("pull", ref)
	if !strings.Contains(out, "Digest: "+img.Manifest.Digest.String()) {
		t.Errorf("berth pull with credentials:\n%s", out)
	}
	d.OK("tag", ref, reg.Ref("copy", ":v2"))
	out = d.OK("push", reg.Ref("copy", ":v2"))
	for _, want := range []string{"The push refers to repository [" + reg.Host + "/copy]", ": Mounted from secret",
		"v2: digest: " + img.Manifest.Digest.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("berth push lacks %q:\n%s", want, out)
		}
	}
	if out := d.OK("image", "push", "-q", reg.Ref("copy", ":v2")); out != reg.Ref("copy", ":v2")+"\n" {
		t.Errorf("berth image push -q: got %q", out)
	}
	if got := testimage.Skopeo(t, "inspect", "--tls-verify=false", "--creds", reg.Creds(), "--raw", "docker://"+reg.Ref("copy", ":v2")); string(got) != string(img.ManifestBytes) {
		t.Errorf("manifest pushed: got %s", got)
	}

	if out := d.OK("logout", reg.Host); out != "Removing login credentials for "+reg.Host+"\n" {
		t.Errorf("berth logout: got %q", out)
	}
	if out := d.OK("logout", reg.Host); out != "Not logged in to "+reg.Host+"\n" {
		t.Errorf("second berth logout: got %q", out)
	}
	if r := d.Berth("push", reg.Ref("copy", ":v2")); r.Code != 1 || !strings.Contains(strings.ToLower(r.Stderr), "unauthorized") {
		t.Errorf("berth push after logout: got %s", r)
	}
}
