// Command pull is berth's contender in bench/images: it wires berth's
// image service as berthd does, over a data root of its own laid out as
// berthd's (berth.db, content/, snapshots/), and pulls, saves or loads.
//
//	pull -root DIR [-insecure HOST[,HOST...]] [-concurrency N] REF
//	pull -root DIR save FILE REF...
//	pull -root DIR load FILE
//
// The first form pulls REF and prints the image's ID; -concurrency is
// image.PullOptions.Concurrency, the layers in flight (zero: the image
// package's default). save writes the images to FILE as one tar, a
// docker-archive that is also an OCI image layout; load reads such a tar
// (or one from docker or podman save) into the root and prints the IDs
// and names of the images it recorded.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/snapshot/overlay"
)

const usage = `usage: pull -root DIR [-insecure HOST[,HOST...]] [-concurrency N] REF
       pull -root DIR save FILE REF...
       pull -root DIR load FILE`

func main() {
	root := flag.String("root", "", "data root (created if missing)")
	insecure := flag.String("insecure", "", "comma-separated registry hosts reached over plain HTTP")
	concurrency := flag.Int("concurrency", 0, "layers in flight during a pull (0: the image package's default)")
	flag.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	flag.Parse()
	args := flag.Args()
	if *root == "" || len(args) == 0 || *concurrency < 0 {
		flag.Usage()
		os.Exit(2)
	}
	var run func(context.Context, *image.Service) error
	switch {
	case args[0] == "save" && len(args) >= 3:
		run = func(ctx context.Context, svc *image.Service) error { return save(ctx, svc, args[1], args[2:]) }
	case args[0] == "load" && len(args) == 2:
		run = func(ctx context.Context, svc *image.Service) error { return load(ctx, svc, args[1]) }
	case args[0] != "save" && args[0] != "load" && len(args) == 1:
		run = func(ctx context.Context, svc *image.Service) error {
			img, err := svc.Pull(ctx, args[0], image.PullOptions{Concurrency: *concurrency})
			if err != nil {
				return err
			}
			fmt.Println(img.ID)
			return nil
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err := withService(context.Background(), *root, *insecure, run); err != nil {
		fmt.Fprintln(os.Stderr, "pull:", err)
		os.Exit(1)
	}
}

// withService opens the data root as berthd does and calls run with the
// image service over it.
func withService(ctx context.Context, root, insecure string, run func(context.Context, *image.Service) error) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	db, err := bolt.Open(filepath.Join(root, "berth.db"), 0o600, nil)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	cs, err := content.Open(filepath.Join(root, "content"))
	if err != nil {
		return err
	}
	snap, err := overlay.New(root, db)
	if err != nil {
		return err
	}
	defer snap.Close()
	var hosts []string
	if insecure != "" {
		hosts = strings.Split(insecure, ",")
	}
	svc, err := image.NewService(db, cs, snap, registry.New(registry.Options{Insecure: hosts}))
	if err != nil {
		return err
	}
	return run(ctx, svc)
}

// save writes refs to path, replacing what is there, as `docker save -o`
// does. Like docker's, the file is closed but not synced.
func save(ctx context.Context, svc *image.Service, path string, refs []string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := svc.Save(ctx, w, refs); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return f.Close()
}

// load reads the archive at path into the store and prints what it
// recorded, one image a line: its ID and names.
func load(ctx context.Context, svc *image.Service, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	imgs, err := svc.Load(ctx, bufio.NewReaderSize(f, 1<<20), nil)
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		return errors.New("load: the archive holds no image")
	}
	for _, img := range imgs {
		fmt.Println(img.ID, strings.Join(img.Names, " "))
	}
	return nil
}
