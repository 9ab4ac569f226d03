package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the configuration file in the config directory.
const FileName = "config.json"

// HubServer is the key docker uses for Docker Hub's credentials.
const HubServer = "https://index.docker.io/v1/"

// Auth is one registry's entry under "auths".
type Auth struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// File is a loaded config.json.
type File struct {
	path string
	// Auths maps a registry key to its credentials.
	Auths map[string]Auth
	// DetachKeys is the "detachKeys" setting, docker's default key
	// sequence to detach from a container.
	DetachKeys string
	// rest holds the keys this package does not interpret.
	rest map[string]json.RawMessage
}

// Load reads dir/config.json; a missing file is an empty configuration.
func Load(dir string) (*File, error) {
	f := &File{path: filepath.Join(dir, FileName), Auths: map[string]Auth{}, rest: map[string]json.RawMessage{}}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.path, err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, &f.rest); err != nil {
		return nil, fmt.Errorf("parse %s: %w", f.path, err)
	}
	if f.rest == nil { // the file was "null"
		f.rest = map[string]json.RawMessage{}
	}
	if raw, ok := f.rest["auths"]; ok {
		if err := json.Unmarshal(raw, &f.Auths); err != nil {
			return nil, fmt.Errorf("parse %s: auths: %w", f.path, err)
		}
		if f.Auths == nil {
			f.Auths = map[string]Auth{}
		}
	}
	if raw, ok := f.rest["detachKeys"]; ok {
		if err := json.Unmarshal(raw, &f.DetachKeys); err != nil {
			return nil, fmt.Errorf("parse %s: detachKeys: %w", f.path, err)
		}
	}
	return f, nil
}

// Path is the file's location.
func (f *File) Path() string { return f.path }

// Save writes the file: a temporary file beside it, synced and renamed
// over it, mode 0600 since it holds credentials.
func (f *File) Save() error {
	f.rest["auths"] = mustJSON(f.Auths)
	if f.DetachKeys != "" {
		f.rest["detachKeys"] = mustJSON(f.DetachKeys)
	}
	b, err := json.MarshalIndent(f.rest, "", "\t")
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(append(b, '\n'))
		if err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

// Key is the auths key of a registry host: docker.io (and its aliases)
// is HubServer, any other host is itself.
func Key(host string) string {
	switch host {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io", HubServer:
		return HubServer
	}
	return host
}

// hostOf strips a key's scheme and path: "https://host:5000/v1/" is
// "host:5000".
func hostOf(key string) string {
	if key == HubServer {
		return key
	}
	if _, rest, ok := strings.Cut(key, "://"); ok {
		key = rest
	}
	host, _, _ := strings.Cut(key, "/")
	return host
}

// Credentials returns the user name and password stored for host, and
// whether there are any.
func (f *File) Credentials(host string) (user, password string, ok bool) {
	want := Key(host)
	for key, a := range f.Auths {
		if key != want && hostOf(key) != want {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			continue
		}
		user, password, ok = strings.Cut(string(raw), ":")
		if ok {
			return user, password, true
		}
	}
	return "", "", false
}

// SetCredentials stores credentials for host.
func (f *File) SetCredentials(host, user, password string) {
	f.Remove(host)
	f.Auths[Key(host)] = Auth{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

// Remove forgets the credentials for host, reporting whether there were
// any.
func (f *File) Remove(host string) bool {
	want := Key(host)
	found := false
	for key := range f.Auths {
		if key == want || hostOf(key) == want {
			delete(f.Auths, key)
			found = true
		}
	}
	return found
}
