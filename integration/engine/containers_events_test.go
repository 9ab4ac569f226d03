package engine_test

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testimage"
)

// TestContainerEvents: the events a container's lifecycle emits, in
// order, as docker events shows them; docker run of an image not pulled
// yet pulls it; docker create then docker start -a.
func TestContainerEvents(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image
	since := time.Now()

	d.OK("run", "-d", "--name", "ev", img, "sleep", "1000")
	d.OK("pause", "ev")
	d.OK("unpause", "ev")
	d.OK("rename", "ev", "ev2")
	d.OK("kill", "ev2")
	d.OK("start", "ev2")
	d.OK("stop", "-t", "0", "ev2")
	d.OK("rm", "ev2")
	until := time.Now().Add(time.Second)
	out := d.OK("events", "--since", fmt.Sprint(since.Unix()), "--until", fmt.Sprint(until.Unix()),
		"--filter", "type=container", "--format", `{{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}}{{index .Actor.Attributes "signal"}}{{index .Actor.Attributes "oldName"}}`)
	var got []string
	for _, l := range lines(out) {
		got = append(got, strings.TrimSpace(l))
	}
	want := []string{
		"create ev", "start ev", "pause ev", "unpause ev", "rename ev2 /ev", "kill ev2 9", "die ev2 137",
		"start ev2", "kill ev2 15", "kill ev2 9", "die ev2 137", "stop ev2", "destroy ev2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docker events:\ngot  %q\nwant %q", got, want)
	}

	// An image that is not here yet: docker run pulls it.
	other := busyboxImage(t)
	ref := strings.Replace(d.Image, ":test", ":other", 1)
	testimage.Push(t, other.Manifest, other.Blobs, ref, "")
	r := d.Docker("run", "--rm", ref, "echo", "pulled")
	if r.Code != 0 || r.Stdout != "pulled\n" || !strings.Contains(r.Stderr, "Unable to find image '"+ref+"' locally") {
		t.Errorf("docker run of an image not pulled: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	// docker create, then start -a.
	d.OK("create", "--name", "later", img, "sh", "-c", "echo started; exit 2")
	if got := d.inspect("later", "{{.State.Status}}"); got != "created" {
		t.Errorf("after create: got %q, want created", got)
	}
	if st := d.OK("ps", "-a", "--format", "{{.Status}}", "--filter", "name=later"); st != "Created\n" {
		t.Errorf("docker ps of a created container: got %q", st)
	}
	r = d.Docker("start", "-a", "later")
	if r.Code != 2 || r.Stdout != "started\n" {
		t.Errorf("docker start -a: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	// prune removes what does not run.
	d.OK("run", "-d", "--name", "running", img, "sleep", "1000")
	d.OK("run", "--name", "labelled", "--label", "keep=yes", img, "true")
	out = d.OK("container", "prune", "-f", "--filter", "label!=keep")
	if !strings.Contains(out, "Deleted Containers:") || !strings.Contains(out, "Total reclaimed space:") {
		t.Errorf("docker container prune: got %q", out)
	}
	left := strings.Fields(d.OK("ps", "-a", "--format", "{{.Names}}"))
	sortStrings(left)
	if strings.Join(left, " ") != "labelled running" {
		t.Errorf("after prune: got %q, want labelled and running", left)
	}

	// docker diff and docker export of a container that changed its files.
	d.OK("run", "--name", "changed", img, "sh", "-c", "echo x > /tmp/new; rm /bin/yes; mkdir -p /a/b")
	if got, want := d.OK("diff", "changed"), "A /a\nA /a/b\nC /bin\nD /bin/yes\nC /tmp\nA /tmp/new\n"; got != want {
		t.Errorf("docker diff: got %q, want %q", got, want)
	}
	tarPath := filepath.Join(t.TempDir(), "fs.tar")
	d.OK("export", "-o", tarPath, "changed")
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	if !names["tmp/new"] || !names["bin/busybox"] || names["bin/yes"] {
		t.Errorf("docker export: got %d entries, tmp/new %v, bin/busybox %v, bin/yes %v", len(names), names["tmp/new"], names["bin/busybox"], names["bin/yes"])
	}
}
