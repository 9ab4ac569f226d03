// Command pull is berth's contender in bench/images: it pulls one image
// with berth's image service into a data root of its own, laid out as
// berthd's (berth.db, content/, snapshots/), and prints the image's ID.
//
//	pull -root DIR [-insecure HOST[,HOST...]] REF
package main

import (
	"context"
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

func main() {
	root := flag.String("root", "", "data root (created if missing)")
	insecure := flag.String("insecure", "", "comma-separated registry hosts reached over plain HTTP")
	flag.Parse()
	if *root == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pull -root DIR [-insecure HOST[,HOST...]] REF")
		os.Exit(2)
	}
	id, err := pull(context.Background(), *root, *insecure, flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pull:", err)
		os.Exit(1)
	}
	fmt.Println(id)
}

// pull wires the image service as berthd does and pulls ref.
func pull(ctx context.Context, root, insecure, ref string) (string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	db, err := bolt.Open(filepath.Join(root, "berth.db"), 0o600, nil)
	if err != nil {
		return "", fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	cs, err := content.Open(filepath.Join(root, "content"))
	if err != nil {
		return "", err
	}
	snap, err := overlay.New(root, db)
	if err != nil {
		return "", err
	}
	defer snap.Close()
	var hosts []string
	if insecure != "" {
		hosts = strings.Split(insecure, ",")
	}
	reg := registry.New(registry.Options{Insecure: hosts})
	svc, err := image.NewService(db, cs, snap, reg)
	if err != nil {
		return "", err
	}
	img, err := svc.Pull(ctx, ref, image.PullOptions{})
	if err != nil {
		return "", err
	}
	return img.ID.String(), nil
}
