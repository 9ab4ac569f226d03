package config

import (
	"context"
	"path/filepath"

	"github.com/berth-dev/berth/internal/dockerconfig"
)

// FileName is the configuration file in the config directory.
const FileName = dockerconfig.FileName

// HubServer is the key docker uses for Docker Hub's credentials.
const HubServer = dockerconfig.HubServer

// File is a loaded config.json.
type File struct {
	doc *dockerconfig.File
	// DetachKeys is the "detachKeys" setting, docker's default key
	// sequence to detach from a container.
	DetachKeys string
	// Helpers runs credential helpers; the zero value finds
	// docker-credential-NAME on PATH.
	Helpers dockerconfig.Helpers
}

// Load reads dir/config.json; a missing file is an empty configuration.
func Load(dir string) (*File, error) {
	doc, err := dockerconfig.Load(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	f := &File{doc: doc}
	if _, err := doc.Get("detachKeys", &f.DetachKeys); err != nil {
		return nil, err
	}
	return f, nil
}

// Path is the file's location.
func (f *File) Path() string { return f.doc.Path() }

// Save writes the file atomically, mode 0600 since it may hold
// credentials, keeping every key it does not interpret.
func (f *File) Save() error {
	if f.DetachKeys != "" {
		if err := f.doc.Set("detachKeys", f.DetachKeys); err != nil {
			return err
		}
	}
	return f.doc.Save()
}

// Key is the auths key of a registry host: docker.io (and its aliases)
// is HubServer, any other host is itself.
func Key(host string) string { return dockerconfig.ServerURL(host) }

// Helper is the credential helper that keeps server's credentials
// (credHelpers, else credsStore), "" when config.json keeps them.
func (f *File) Helper(server string) string { return f.doc.Config().Helper(server) }

// Lookup returns the credentials for server's registry as the docker CLI
// finds them: from its credential helper, else from auths.
func (f *File) Lookup(ctx context.Context, server string) (dockerconfig.Credentials, error) {
	return f.doc.Lookup(ctx, f.Helpers, server)
}

// Store keeps c for server's registry, through its credential helper
// (leaving a placeholder in auths) or in auths; Save writes the file.
func (f *File) Store(ctx context.Context, server string, c dockerconfig.Credentials) error {
	return f.doc.Store(ctx, f.Helpers, server, c)
}

// Erase forgets server's registry in its credential helper and in auths,
// reporting whether auths had an entry; Save writes the file.
func (f *File) Erase(ctx context.Context, server string) (bool, error) {
	return f.doc.Erase(ctx, f.Helpers, server)
}

// Stored returns what config.json's auths hold for server's registry,
// empty when nothing; helpers are not asked.
func (f *File) Stored(server string) dockerconfig.Credentials {
	c, _ := f.doc.Credentials(server)
	return c
}

// Credentials returns the user name and password config.json's auths
// hold for host, and whether there are any; helpers are not asked.
func (f *File) Credentials(host string) (user, password string, ok bool) {
	c, ok := f.doc.Credentials(host)
	if !ok || c.Username == "" && c.Password == "" {
		return "", "", false
	}
	return c.Username, c.Password, true
}

// SetCredentials writes credentials for host into auths, whatever
// helper is configured.
func (f *File) SetCredentials(host, user, password string) {
	f.doc.SetEntry(host, dockerconfig.EntryOf(dockerconfig.Credentials{Username: user, Password: password}))
}

// Remove forgets the auths entries for host, reporting whether there
// were any.
func (f *File) Remove(host string) bool {
	return len(f.doc.DeleteEntries(host)) > 0
}
