package dockerconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileName is config.json's name in a config directory.
const FileName = "config.json"

// File is a loaded config.json. It keeps the keys it does not interpret
// and the raw auths entries, so that Save changes only what was changed.
// A File is not safe for concurrent use.
type File struct {
	path  string
	cfg   *Config
	top   map[string]json.RawMessage
	auths map[string]json.RawMessage
}

// Load reads path; a missing file is an empty configuration.
func Load(path string) (*File, error) {
	b, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := parseFile(path, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readBounded(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func parseFile(path string, b []byte) (*File, error) {
	cfg, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if cfg.Auths == nil {
		cfg.Auths = map[string]AuthEntry{}
	}
	f := &File{path: path, cfg: cfg, top: map[string]json.RawMessage{}, auths: map[string]json.RawMessage{}}
	if len(strings.TrimSpace(string(b))) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, &f.top); err != nil {
		return nil, invalid(err)
	}
	if f.top == nil { // the file was "null"
		f.top = map[string]json.RawMessage{}
	}
	if raw, ok := f.top["auths"]; ok {
		if err := json.Unmarshal(raw, &f.auths); err != nil {
			return nil, fmt.Errorf("auths: %w", invalid(err))
		}
		if f.auths == nil {
			f.auths = map[string]json.RawMessage{}
		}
	}
	return f, nil
}

// Path is the file's location.
func (f *File) Path() string { return f.path }

// Config is the file's credential configuration. It reflects SetEntry and
// DeleteEntries; callers must not change it.
func (f *File) Config() *Config { return f.cfg }

// Get decodes the top-level key into v, reporting whether it is there.
func (f *File) Get(key string, v any) (bool, error) {
	raw, ok := f.top[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("%s: %s: %w", f.path, key, invalid(err))
	}
	return true, nil
}

// Set encodes v as the top-level key. The credential keys (auths,
// credsStore, credHelpers) are this package's and cannot be set.
func (f *File) Set(key string, v any) error {
	switch key {
	case "auths", "credsStore", "credHelpers":
		return fmt.Errorf("set %s in %s: use the credential methods", key, f.path)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("set %s in %s: %w", key, f.path, err)
	}
	f.top[key] = b
	return nil
}

// Credentials returns the auths entry for server's registry, decoded,
// and whether there is one; helpers are not asked.
func (f *File) Credentials(server string) (Credentials, bool) {
	e, _, ok := f.cfg.Entry(server)
	if !ok {
		return Credentials{}, false
	}
	c, err := e.Credentials()
	return c, err == nil // Parse checked every entry
}

// SetEntry makes e the auths entry of server's registry, under
// ServerURL(server), dropping other keys that stand for the same host.
func (f *File) SetEntry(server string, e AuthEntry) {
	f.DeleteEntries(server)
	key := ServerURL(server)
	b, _ := json.Marshal(e) // strings only: cannot fail
	f.auths[key] = b
	f.cfg.Auths[key] = e
}

// DeleteEntries drops every auths key that stands for server's registry
// and returns the keys dropped.
func (f *File) DeleteEntries(server string) []string {
	host := Host(server)
	var keys []string
	for _, key := range sortedKeys(f.cfg.Auths) {
		if Host(key) == host {
			delete(f.auths, key)
			delete(f.cfg.Auths, key)
			keys = append(keys, key)
		}
	}
	return keys
}

// Save writes the file: a temporary file beside it (beside the file a
// symlink points to), mode 0600 since it may hold credentials, synced
// and renamed over it; then the directory is synced.
func (f *File) Save() error {
	b, err := json.Marshal(f.auths)
	if err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	f.top["auths"] = b
	out, err := json.MarshalIndent(f.top, "", "\t")
	if err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	path := f.path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	if err := writeAtomic(path, append(out, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil // the rename is done; only its durability is in doubt
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
