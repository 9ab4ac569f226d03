package container

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// NewCopyCommand is `berth cp`.
func NewCopyCommand(c *command.CLI) *cobra.Command {
	var followLink, archive, quiet bool
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcCtr, srcPath := splitCopyArg(args[0])
			dstCtr, dstPath := splitCopyArg(args[1])
			api, err := c.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var n int64
			switch {
			case srcCtr != "" && dstCtr != "":
				return errors.New("copying between containers is not supported")
			case srcCtr != "":
				// With -L a symlink is copied as what it leads to in the
				// container, under the link's name.
				from, rebase := srcPath, ""
				if followLink {
					st, err := api.ContainerStatPath(ctx, srcCtr, client.ContainerStatPathOptions{Path: srcPath})
					if err != nil {
						return err
					}
					if st.Stat.Mode&fs.ModeSymlink != 0 && st.Stat.LinkTarget != "" {
						from, rebase = st.Stat.LinkTarget, path.Base(path.Clean("/"+srcPath))
					}
				}
				res, err := api.CopyFromContainer(ctx, srcCtr, client.CopyFromContainerOptions{SourcePath: from})
				if err != nil {
					return err
				}
				defer res.Content.Close()
				if dstPath == "-" {
					_, err := io.Copy(c.Out, res.Content)
					return err
				}
				if n, err = extract(res.Content, srcPath, res.Stat.Mode.IsDir(), dstPath, rebase); err != nil {
					return err
				}
			case dstCtr != "":
				if n, err = upload(cmd, c, api, srcPath, dstCtr, dstPath, followLink, archive); err != nil {
					return err
				}
			default:
				return errors.New("must specify at least one container source")
			}
			if !quiet && command.NewOut(c.Err).IsTerminal() {
				fmt.Fprintf(c.Err, "Successfully copied %s to %s\n", format.HumanSize(float64(n)), args[1])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	f.BoolVarP(&archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	f.BoolVarP(&quiet, "quiet", "q", false, "Suppress progress output during copy")
	return cmd
}

// splitCopyArg splits "CONTAINER:PATH"; a path that starts with / or .
// or has no colon is local.
func splitCopyArg(arg string) (ctr, p string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return ctr, p
}

// extract unpacks a tar from the container at dst, with docker cp's
// rules: into dst when it is a directory (just the contents when src
// ends in "/."), else as dst itself. rebase, when set, renames the top
// entry (a symlink followed by -L keeps the link's name). Every path
// stays inside the target directory (os.Root).
func extract(r io.Reader, src string, srcIsDir bool, dst, rebase string) (int64, error) {
	dir, rename := dst, ""
	st, err := os.Stat(dst)
	switch {
	case err == nil && st.IsDir():
	case err == nil && srcIsDir:
		return 0, fmt.Errorf("cannot copy a directory to a file: %s", dst)
	case err == nil || errors.Is(err, fs.ErrNotExist):
		if strings.HasSuffix(dst, "/") && errors.Is(err, fs.ErrNotExist) && !srcIsDir {
			return 0, fmt.Errorf("destination directory %s does not exist", dst)
		}
		dir, rename = filepath.Dir(filepath.Clean(dst)), filepath.Base(filepath.Clean(dst))
	default:
		return 0, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	contentsOnly := strings.HasSuffix(src, "/.") && srcIsDir
	tr := tar.NewReader(r)
	var total int64
	var sawTop, dotTop bool
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read archive from the container: %w", err)
		}
		// The top entry is the source's name, or "." for "dir/.": then
		// every name is relative to the source directory.
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if !sawTop {
			dotTop = name == "."
		}
		sawTop = true
		first, rest, _ := strings.Cut(name, "/")
		if dotTop {
			first, rest = ".", name
			if name == "." {
				rest = ""
			}
		}
		switch {
		case contentsOnly && rename == "":
			if rest == "" {
				continue
			}
			name = rest
		case rename != "":
			name = path.Join(rename, rest)
		case rebase != "" && first != ".":
			name = path.Join(rebase, rest)
		}
		if name == "." || name == ".." || strings.HasPrefix(name, "../") {
			continue
		}
		n, err := writeEntry(root, name, h, tr)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// writeEntry creates one archive entry under root.
func writeEntry(root *os.Root, name string, h *tar.Header, r io.Reader) (int64, error) {
	mode := fs.FileMode(h.Mode).Perm()
	switch h.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, 0o755); err != nil {
			return 0, err
		}
		return 0, root.Chmod(name, mode)
	case tar.TypeReg:
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return 0, err
			}
		}
		root.Remove(name)
		f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return n, err
	case tar.TypeSymlink:
		root.Remove(name)
		return 0, root.Symlink(h.Linkname, name)
	}
	return 0, nil // devices, fifos, hard links: left out
}

// upload sends src (a file or directory, or a tar on stdin for "-") to
// the container, named as docker cp names it.
func upload(cmd *cobra.Command, c *command.CLI, api *client.Client, src, ctr, dst string, followLink, archive bool) (int64, error) {
	ctx := cmd.Context()
	if src == "-" {
		_, err := api.CopyToContainer(ctx, ctr, client.CopyToContainerOptions{DestinationPath: dst, Content: c.In, CopyUIDGID: archive})
		return 0, err
	}
	stat := os.Lstat
	if followLink {
		stat = os.Stat
	}
	st, err := stat(src)
	if err != nil {
		return 0, err
	}
	// "dir/." copies the directory's contents: into dst when it is a
	// directory, else as dst.
	contents := st.IsDir() && (strings.HasSuffix(src, "/.") || src == ".")
	dir, name := dst, filepath.Base(filepath.Clean(src))
	if contents {
		name = "."
	}
	ds, err := api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dst})
	if err == nil && ds.Stat.Mode&fs.ModeSymlink != 0 && ds.Stat.LinkTarget != "" {
		// A symlink in the container as the destination: what it leads to.
		dst = ds.Stat.LinkTarget
		dir = dst
		ds, err = api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dst})
	}
	switch {
	case err == nil && ds.Stat.Mode.IsDir():
	case err == nil && st.IsDir():
		return 0, fmt.Errorf("cannot copy a directory to a file: %s", dst)
	case err == nil || errdefs.IsNotFound(err):
		if strings.HasSuffix(dst, "/") && err != nil {
			return 0, fmt.Errorf("destination directory %s does not exist", dst)
		}
		dir, name = path.Dir(path.Clean(dst)), path.Base(path.Clean(dst))
	default:
		return 0, err
	}
	pr, pw := io.Pipe()
	var total int64
	go func() {
		var err error
		total, err = writeTar(pw, src, name, followLink)
		pw.CloseWithError(err)
	}()
	_, err = api.CopyToContainer(ctx, ctr, client.CopyToContainerOptions{DestinationPath: dir, Content: pr, CopyUIDGID: archive})
	pr.Close()
	return total, err
}

// writeTar archives src under the name top.
func writeTar(w io.Writer, src, top string, followLink bool) (int64, error) {
	tw := tar.NewWriter(w)
	var total int64
	src = filepath.Clean(src)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if p == src && followLink {
			info, err = os.Stat(p)
		}
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil // sockets and such: skipped
		}
		rel, _ := filepath.Rel(src, p)
		h.Name = path.Join(top, filepath.ToSlash(rel))
		if info.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			n, err := io.Copy(tw, f)
			f.Close()
			total += n
			return err
		}
		return nil
	})
	if err != nil {
		return total, err
	}
	return total, tw.Close()
}
