// Package testcreds installs a fake docker-credential-NAME helper for
// tests: a shell script that keeps each server's credentials in a file
// of its state directory, answers get, store and erase per the credential
// helper protocol ("credentials not found in native keychain" when it has
// nothing), and logs every call, so a test can look at what a program
// stored and asked for.
package testcreds

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Helper is an installed fake helper.
type Helper struct {
	// Name is the helper's name in config.json: the program is
	// docker-credential-Name.
	Name string
	// Dir holds the program; put it on PATH.
	Dir   string
	state string
}

// Creds is what the helper keeps for a server.
type Creds struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

const script = `#!/bin/sh
# A fake docker-credential helper keeping credentials in files.
state=%STATE%
in=$(cat)
case "$1" in
get|erase) server=$in ;;
store) server=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p') ;;
*) echo "unknown action $1" >&2; exit 2 ;;
esac
echo "$1 $server" >> "$state/log"
f="$state/$(printf '%s' "$server" | tr -c 'A-Za-z0-9.-' '_')"
case "$1" in
get) if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store) printf '%s' "$in" > "$f" ;;
erase) if [ -f "$f" ]; then rm -f "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
`

// Install writes docker-credential-name into dir (a new temporary
// directory when dir is "") with an empty store.
func Install(t testing.TB, dir, name string) *Helper {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	h := &Helper{Name: name, Dir: dir, state: t.TempDir()}
	body := strings.ReplaceAll(script, "%STATE%", "'"+h.state+"'")
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// Path is the helper program.
func (h *Helper) Path() string { return filepath.Join(h.Dir, "docker-credential-"+h.Name) }

func (h *Helper) file(server string) string {
	b := []byte(server)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	return filepath.Join(h.state, string(b))
}

// Put stores credentials for server as the helper's store would.
func (h *Helper) Put(t testing.TB, server, user, secret string) {
	t.Helper()
	b, _ := json.Marshal(Creds{ServerURL: server, Username: user, Secret: secret})
	if err := os.WriteFile(h.file(server), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Stored returns what the helper keeps for server.
func (h *Helper) Stored(t testing.TB, server string) (Creds, bool) {
	t.Helper()
	b, err := os.ReadFile(h.file(server))
	if os.IsNotExist(err) {
		return Creds{}, false
	}
	var c Creds
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("fake helper's record of %s: %v: %q", server, err, b)
	}
	return c, true
}

// Calls returns the calls made so far, each "action server".
func (h *Helper) Calls() []string {
	b, _ := os.ReadFile(filepath.Join(h.state, "log"))
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
