package dockerconfig

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

// FuzzParse: config.json is untrusted input; bad input is an invalid
// argument, never a panic, and what parses can be looked up and saved.
// Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"auths":{"x":{"auth":"dTpw"}},"credHelpers":{"y":"z"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("Parse error without a class: %v", err)
			}
			return
		}
		for _, e := range cfg.Auths {
			if _, err := e.Credentials(); err != nil {
				t.Fatalf("Parse accepted an entry it cannot decode: %v", err)
			}
		}
		file, err := parseFile(filepath.Join(t.TempDir(), FileName), b)
		if err != nil {
			t.Fatalf("Parse accepted what parseFile refuses: %v", err)
		}
		// No helper can be found: lookups of hosts without one still work.
		h := Helpers{LookPath: func(string) (string, error) { return "", errdefs.ErrNotFound }}
		if cfg.Helper("x") == "" {
			if _, err := file.Lookup(context.Background(), h, "x"); err != nil {
				t.Fatalf("Lookup(x) without a helper: %v", err)
			}
		}
		file.SetEntry("y", EntryOf(Credentials{Username: "u", Password: "p"}))
		if err := file.Save(); err != nil {
			t.Fatalf("Save after Parse: %v", err)
		}
	})
}
