package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// maxIDFileSize bounds what is read of /etc/passwd and /etc/group: an image
// cannot make the daemon read gigabytes.
const maxIDFileSize = 4 << 20

// maxSymlinks is the kernel's own limit on symlinks in one lookup (ELOOP).
const maxSymlinks = 40

// readIDFilesInRoot reads etc/passwd and etc/group of the rootfs at dir. A
// missing file (or dir == "") reads as nil, as Docker treats it.
func readIDFilesInRoot(dir string) (passwd []passwdEntry, group []groupEntry, err error) {
	if dir == "" {
		return nil, nil, nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open rootfs %s: %w", dir, err)
	}
	defer root.Close()
	data, err := readFileInRoot(root, "/etc/passwd")
	if err != nil {
		return nil, nil, err
	}
	if data != nil {
		passwd = parsePasswd(data)
	}
	if data, err = readFileInRoot(root, "/etc/group"); err != nil {
		return nil, nil, err
	}
	if data != nil {
		group = parseGroup(data)
	}
	return passwd, group, nil
}

// readFileInRoot reads name, a path inside the container, from root: its
// symlinks resolve as the container would see them (absolute targets from
// the rootfs, ".." stopping at it) and os.Root refuses anything that would
// still leave it. Only a regular file is read, opened non-blocking so that a
// FIFO cannot hang the daemon, and at most maxIDFileSize bytes. A file that
// does not exist reads as nil.
func readFileInRoot(root *os.Root, name string) ([]byte, error) {
	rel, err := resolveInRoot(root, name)
	if err != nil {
		if absent(err) {
			return nil, nil
		}
		return nil, invalidWrap(err, "read %s in the container's rootfs: %v", name, err)
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_NOCTTY, 0)
	if err != nil {
		if absent(err) {
			return nil, nil
		}
		return nil, invalidWrap(err, "read %s in the container's rootfs: %v", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s in the container's rootfs: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, invalidf("read %s in the container's rootfs: not a regular file (%s)", name, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIDFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s in the container's rootfs: %w", name, err)
	}
	if len(data) > maxIDFileSize {
		return nil, invalidf("read %s in the container's rootfs: larger than %d bytes", name, maxIDFileSize)
	}
	return data, nil
}

// absent reports an error that means the file is not there: Docker reads
// such a rootfs as one without the file.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// resolveInRoot follows the symlinks of name component by component as if
// root were "/" and returns the resulting path relative to root, free of
// symlinks but for the last component when it is dangling. A component
// that does not exist ends the walk: the rest is appended as written.
func resolveInRoot(root *os.Root, name string) (string, error) {
	todo := strings.Split(strings.TrimPrefix(path.Clean("/"+name), "/"), "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, c)...)
		fi, err := root.Lstat(cur)
		if err != nil {
			if absent(err) {
				return path.Join(append(append(done, c), todo...)...), nil
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ELOOP}
		}
		target, err := root.Readlink(cur)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			done = done[:0]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}
