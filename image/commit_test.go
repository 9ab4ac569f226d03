package image_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/snapshot"
)

// TestCommit: a commit adds a layer (unpacked, so a view of it works at
// once) and a history entry on its parent, with the config it is given;
// one that changed nothing adds the history entry only.
func TestCommit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, t.TempDir(), registry.Options{})
	tarball, err := testimage.Tar(append(testimage.BusyboxFiles(t), testimage.File{Name: "old", Data: []byte("old\n")}))
	if err != nil {
		t.Fatal(err)
	}
	parent, err := e.svc.Import(ctx, bytes.NewReader(tarball), image.ImportOptions{Ref: "parent:v1"})
	if err != nil {
		t.Fatal(err)
	}
	diff, err := testimage.Tar([]testimage.File{{Name: "new", Data: []byte("new\n")}, {Name: ".wh.old"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Cmd: []string{"cat", "/new"}}}
	img, err := e.svc.Commit(ctx, image.CommitOptions{
		Parent: parent.ID, Config: conf, Author: "me", Comment: "msg", CreatedBy: "sh", Ref: "child:v1",
		Layer: func(ctx context.Context, w io.Writer) error { _, err := w.Write(diff); return err },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(img.Names, "docker.io/library/child:v1") || len(img.DiffIDs) != 2 || img.DiffIDs[0] != parent.DiffIDs[0] {
		t.Errorf("commit: got names %q, diff IDs %q; want child:v1 on the parent's layer", img.Names, img.DiffIDs)
	}
	var cfg dockerspec.DockerOCIImage
	raw, _ := os.ReadFile(blobPath(t, e, img.Config))
	json.Unmarshal(raw, &cfg)
	last := cfg.History[len(cfg.History)-1]
	if cfg.Author != "me" || !slices.Equal(cfg.Config.Cmd, []string{"cat", "/new"}) || len(cfg.History) != 2 ||
		last.Comment != "msg" || last.CreatedBy != "sh" || last.EmptyLayer || cfg.RootFS.Type != "layers" {
		t.Errorf("commit config: got %+v", cfg)
	}
	dir, _ := e.rootfs(t, img)
	if b, _ := os.ReadFile(filepath.Join(dir, "new")); string(b) != "new\n" {
		t.Errorf("committed /new: got %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Errorf("committed whiteout of /old: got %v, want it gone", err)
	}

	// The layer was applied while it was stored: its snapshot carries the
	// size of the tar, and no staging snapshot is left.
	chain := img.ChainIDs()
	if info, err := e.snap.Stat(ctx, chain[len(chain)-1].String()); err != nil || info.Labels["berth.image.size"] != strconv.Itoa(len(diff)) {
		t.Errorf("committed snapshot: got %+v, %v; want its size label %d", info, err, len(diff))
	}
	noStaging := func() {
		e.snap.Walk(ctx, func(i snapshot.Info) error {
			if strings.HasPrefix(i.Name, "staging-") {
				t.Errorf("staging snapshot %s left", i.Name)
			}
			return nil
		})
	}
	noStaging()

	empty, err := e.svc.Commit(ctx, image.CommitOptions{
		Parent: img.ID, Comment: "nothing",
		Layer: func(ctx context.Context, w io.Writer) error { _, err := w.Write(make([]byte, 1024)); return err },
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(blobPath(t, e, empty.Config))
	cfg = dockerspec.DockerOCIImage{}
	json.Unmarshal(raw, &cfg)
	if len(empty.DiffIDs) != 2 || len(cfg.History) != 3 || !cfg.History[2].EmptyLayer || len(empty.Names) != 0 {
		t.Errorf("empty commit: got %d layers, history %+v, names %q; want the parent's layers and an empty-layer entry", len(empty.DiffIDs), cfg.History, empty.Names)
	}
	noStaging()

	// A layer that fails halfway fails the commit, names no image and
	// leaves no staging snapshot.
	broken := errors.New("container layer unreadable")
	_, err = e.svc.Commit(ctx, image.CommitOptions{
		Parent: img.ID, Ref: "broken:v1",
		Layer: func(ctx context.Context, w io.Writer) error {
			if _, err := w.Write(diff[:512]); err != nil {
				return err
			}
			return broken
		},
	})
	if !errors.Is(err, broken) {
		t.Errorf("commit of a failing layer: got %v, want %v", err, broken)
	}
	if _, err := e.svc.Store.Get(ctx, "broken:v1"); err == nil {
		t.Errorf("commit of a failing layer: got image broken:v1, want none")
	}
	noStaging()
}
