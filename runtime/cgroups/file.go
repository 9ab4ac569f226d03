package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Files in cgroupfs are written with open(2)+write(2)+close(2) and nothing
// else: the kernel parses each write(2) on its own, so one value is one write,
// and a file is never created (O_CREAT is left out), so a missing controller
// shows up as ENOENT instead of a stray regular file in a fake tree.

// writeFile writes value to dir/file in a single write(2).
func writeFile(dir, file, value string) error {
	if err := writeRaw(filepath.Join(dir, file), []string{value}); err != nil {
		return fmt.Errorf("set %s to %q on %s: %w", file, value, dir, err)
	}
	return nil
}

// writeLines writes each line to dir/file in its own write(2), newline
// terminated as echo(1) would. Files that take one rule per write
// (devices.allow, blkio.throttle.*, io.max, net_prio.ifpriomap) need this.
// On a regular file (a test tree) the lines end up concatenated.
func writeLines(dir, file string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	nl := make([]string, len(lines))
	for i, l := range lines {
		nl[i] = l + "\n"
	}
	if err := writeRaw(filepath.Join(dir, file), nl); err != nil {
		return fmt.Errorf("set %s to %q on %s: %w", file, strings.Join(lines, "; "), dir, err)
	}
	return nil
}

func writeRaw(path string, values []string) error {
	fd, err := openRetry(path, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, v := range values {
		for {
			_, err = unix.Write(fd, []byte(v))
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFile returns the content of dir/file without surrounding white space.
func readFile(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readUint reads a single number; "max" reads as math.MaxUint64.
func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	return parseUint(s, filepath.Join(dir, file))
}

func parseUint(s, where string) (uint64, error) {
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// v1 reports some counters as negative values (-1) when unset.
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %q in %s: %w", s, where, err)
	}
	return v, nil
}

// readKV reads a "key value" per line file (memory.stat, cpu.stat, ...).
func readKV(dir, file string) (map[string]uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	return parseKV(string(b), filepath.Join(dir, file))
}

func parseKV(data, where string) (map[string]uint64, error) {
	m := make(map[string]uint64)
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		n, err := parseUint(strings.TrimSpace(v), where)
		if err != nil {
			return nil, err
		}
		m[k] = n
	}
	return m, nil
}

// notExist reports whether err means a missing file or directory.
func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// skipMissing turns ENOENT into nil, for optional files.
func skipMissing(err error) error {
	if notExist(err) {
		return nil
	}
	return err
}

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

func parseInt(s, where string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q in %s: %w", s, where, err)
	}
	return v, nil
}
