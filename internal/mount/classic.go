package mount

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// pageSize is the limit of mount(2)'s data argument, terminating NUL
// included: the kernel copies one page of it.
const pageSize = 4096

// overlayClassic mounts an overlay with mount(2). When the option data does
// not fit in a page, the layer paths are rewritten relative to their longest
// common directory and the mount is made from a thread whose working
// directory is that directory.
func overlayClassic(source, target string, o options) error {
	data := o.dataString()
	if len(data) < pageSize {
		if err := unix.Mount(source, target, "overlay", o.flags, data); err != nil {
			return fmt.Errorf("mount overlay on %s: %w", target, err)
		}
		return nil
	}
	dir, rel, err := relativeOverlayData(o.data)
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	if len(rel) >= pageSize {
		return fmt.Errorf("mount overlay on %s: option data is %d bytes even with paths relative to %s, over the kernel's %d", target, len(rel), dir, pageSize-1)
	}
	err = inDir(dir, func() error { return unix.Mount(source, target, "overlay", o.flags, rel) })
	if err != nil {
		return fmt.Errorf("mount overlay on %s (paths relative to %s): %w", target, dir, err)
	}
	return nil
}

// relativeOverlayData rewrites the lowerdir, upperdir and workdir options
// relative to the longest directory that holds all of them.
func relativeOverlayData(data []string) (string, string, error) {
	var paths []string
	for _, opt := range data {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "lowerdir":
			paths = append(paths, splitLowerdirs(val)...)
		case "upperdir", "workdir":
			paths = append(paths, val)
		}
	}
	dir := commonDir(paths)
	if dir == "" {
		return "", "", fmt.Errorf("layer paths share no directory to shorten them against")
	}
	rel := func(p string) string {
		r, err := filepath.Rel(dir, filepath.Clean(p))
		if err != nil {
			return p
		}
		return r
	}
	out := make([]string, 0, len(data))
	for _, opt := range data {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "lowerdir":
			dirs := splitLowerdirs(val)
			for i, d := range dirs {
				dirs[i] = escapeLowerdir(rel(d))
			}
			opt = "lowerdir=" + strings.Join(dirs, ":")
		case "upperdir", "workdir":
			opt = key + "=" + rel(val)
		}
		out = append(out, opt)
	}
	return dir, strings.Join(out, ","), nil
}

// commonDir is the longest absolute directory that is an ancestor of (or
// equal to) every path, or "" when the only one is "/".
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	common := filepath.Clean(paths[0])
	for _, p := range paths[1:] {
		p = filepath.Clean(p)
		for common != "/" && p != common && !strings.HasPrefix(p, common+"/") {
			common = filepath.Dir(common)
		}
	}
	if !filepath.IsAbs(common) || common == "/" {
		return ""
	}
	return common
}

// inDir runs fn on a fresh OS thread whose working directory is dir. The
// thread first unshares its filesystem attributes (CLONE_FS), so the chdir
// is invisible to the rest of the process. It stays locked: the Go runtime
// ends a locked thread when its goroutine returns, so the altered thread is
// never reused.
func inDir(dir string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare fs attributes: %w", err)
			return
		}
		if err := unix.Chdir(dir); err != nil {
			errc <- fmt.Errorf("chdir %s: %w", dir, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
