package dockerconfig

import (
	"context"
	"errors"
	"fmt"
)

// Lookup returns the credentials for server's registry: its helper's
// (credHelpers, else credsStore), else, when the helper has none or no
// helper is configured, the auths entry. Empty credentials mean
// anonymous access. A helper that cannot be run is an error; the auths
// entry is still there through Credentials for a caller that falls back
// to it, as the docker CLI does.
func (f *File) Lookup(ctx context.Context, h Helpers, server string) (Credentials, error) {
	if helper := f.cfg.Helper(server); helper != "" {
		c, found, err := h.Get(ctx, helper, ServerURL(server))
		if err != nil {
			return Credentials{}, err
		}
		if found {
			return c, nil
		}
	}
	c, _ := f.Credentials(server)
	return c, nil
}

// Store keeps c for server's registry: through its helper, leaving an
// empty placeholder in auths as docker does, or in auths when no helper
// is configured. The file is changed in memory only; Save writes it.
func (f *File) Store(ctx context.Context, h Helpers, server string, c Credentials) error {
	entry := EntryOf(c)
	if helper := f.cfg.Helper(server); helper != "" {
		if err := h.Store(ctx, helper, ServerURL(server), c); err != nil {
			return err
		}
		entry = AuthEntry{}
	}
	f.SetEntry(server, entry)
	return nil
}

// Erase forgets server's registry: through its helper, under
// ServerURL(server) and every auths key that stands for it, then in
// auths. It returns whether config.json had an entry. When the helper
// fails the file is left as it was.
func (f *File) Erase(ctx context.Context, h Helpers, server string) (bool, error) {
	if helper := f.cfg.Helper(server); helper != "" {
		servers := []string{ServerURL(server)}
		host := Host(server)
		for _, key := range sortedKeys(f.cfg.Auths) {
			if Host(key) == host && key != servers[0] {
				servers = append(servers, key)
			}
		}
		var errs []error
		for _, s := range servers {
			if err := h.Erase(ctx, helper, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return false, err
		}
	}
	return len(f.DeleteEntries(server)) > 0, nil
}
