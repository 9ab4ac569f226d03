// Package fsutil holds small file helpers shared by the daemon's packages.
package fsutil

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic writes a temp file beside path, syncs it, renames it
// over path and syncs the directory: readers see the old file or the new
// one, never a part, also after a crash.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeFile(path, data, mode, true)
}

// ReplaceFile is WriteFileAtomic without the syncs: readers see the old
// file or the new one, never a part, but after a crash the file may be
// empty or gone. For files that are made again when they are found so.
func ReplaceFile(path string, data []byte, mode os.FileMode) error {
	return writeFile(path, data, mode, false)
}

func writeFile(path string, data []byte, mode os.FileMode, durable bool) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if durable {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return SyncDir(dir)
}

// SyncDir makes the creations, renames and removals in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
