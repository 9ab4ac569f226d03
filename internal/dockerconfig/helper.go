package dockerconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// The credential helper protocol (docker-credential-helpers): the program
// docker-credential-NAME is run with one argument, the action, and talks
// JSON over stdin and stdout.
//
//	get    stdin: server URL                         stdout: {"ServerURL","Username","Secret"}
//	store  stdin: {"ServerURL","Username","Secret"}  stdout: nothing
//	erase  stdin: server URL                         stdout: nothing
//
// A helper that has nothing for the server exits non-zero and prints
// "credentials not found in native keychain". A Username of "<token>"
// marks Secret as an identity (refresh) token.

const (
	helperNotFound = "credentials not found in native keychain"
	// IdentityUser is the Username a helper keeps an identity token under.
	IdentityUser = "<token>"
	// HelperPrefix starts the name of every credential helper program.
	HelperPrefix = "docker-credential-"
	// DefaultHelperTimeout bounds one run of a helper.
	DefaultHelperTimeout = 30 * time.Second
	maxHelperOut         = 1 << 20
)

// HelperCreds is the JSON a helper reads on store and answers on get.
type HelperCreds struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// Helpers runs credential helper programs.
type Helpers struct {
	// LookPath finds docker-credential-NAME; nil means exec.LookPath.
	LookPath func(file string) (string, error)
	// Timeout bounds each run; 0 means DefaultHelperTimeout.
	Timeout time.Duration
}

// errNoCreds is a helper's "credentials not found" answer.
var errNoCreds = fmt.Errorf("%s: %w", helperNotFound, errdefs.ErrNotFound)

// validHelperName keeps a helper name from naming a path.
func validHelperName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return name != "." && name != ".."
}

// run runs helper's action with stdin and returns its standard output.
// A missing program is errdefs.ErrNotFound, an answer of "credentials not
// found" is errNoCreds.
func (h Helpers) run(ctx context.Context, helper, action string, stdin []byte) ([]byte, error) {
	prog := HelperPrefix + helper
	if !validHelperName(helper) {
		return nil, fmt.Errorf("credential helper %q: name is not a program name: %w", prog, errdefs.ErrInvalidArgument)
	}
	look := h.LookPath
	if look == nil {
		look = exec.LookPath
	}
	path, err := look(prog)
	if err != nil {
		return nil, fmt.Errorf("credential helper %s: %w", prog, classed(err, errdefs.ErrNotFound))
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultHelperTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, action)
	cmd.Stdin = bytes.NewReader(stdin)
	// A helper that leaves a child holding its output open must not
	// hang us past the timeout.
	cmd.WaitDelay = time.Second
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("credential helper %s %s: no answer in %v: %w", prog, action, timeout, ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(stdout.String())
		if strings.Contains(msg, helperNotFound) {
			return nil, errNoCreds
		}
		if msg == "" {
			msg = strings.TrimSpace(stderr.String())
		}
		return nil, fmt.Errorf("credential helper %s %s: %w: %s", prog, action, err, msg)
	}
	if stdout.cut {
		return nil, fmt.Errorf("credential helper %s %s: answer longer than %d bytes: %w", prog, action, maxHelperOut, errdefs.ErrInvalidArgument)
	}
	return stdout.Bytes(), nil
}

// Get asks helper for server's credentials; found is false when it has
// none.
func (h Helpers) Get(ctx context.Context, helper, server string) (c Credentials, found bool, err error) {
	out, err := h.run(ctx, helper, "get", []byte(server))
	if errors.Is(err, errNoCreds) {
		return Credentials{}, false, nil
	}
	if err != nil {
		return Credentials{}, false, err
	}
	var hc HelperCreds
	if err := json.Unmarshal(out, &hc); err != nil {
		return Credentials{}, false, fmt.Errorf("credential helper %s%s get: answer is not JSON: %w", HelperPrefix, helper, invalid(err))
	}
	if hc.Username == IdentityUser {
		return Credentials{IdentityToken: hc.Secret}, hc.Secret != "", nil
	}
	if hc.Username == "" && hc.Secret == "" {
		return Credentials{}, false, nil
	}
	return Credentials{Username: hc.Username, Password: hc.Secret}, true, nil
}

// Store gives helper c for server. An identity token is kept as docker
// keeps it: user "<token>", the token as the secret.
func (h Helpers) Store(ctx context.Context, helper, server string, c Credentials) error {
	hc := HelperCreds{ServerURL: server, Username: c.Username, Secret: c.Password}
	if c.IdentityToken != "" {
		hc.Username, hc.Secret = IdentityUser, c.IdentityToken
	}
	in, err := json.Marshal(hc)
	if err != nil {
		return err
	}
	_, err = h.run(ctx, helper, "store", in)
	return err
}

// Erase makes helper forget server; a helper that had nothing for it is
// not an error.
func (h Helpers) Erase(ctx context.Context, helper, server string) error {
	_, err := h.run(ctx, helper, "erase", []byte(server))
	if errors.Is(err, errNoCreds) {
		return nil
	}
	return err
}

// limitedBuffer keeps the first maxHelperOut bytes written to it and
// notes whether it dropped any. It has no ReadFrom, so io.Copy cannot
// bypass the bound.
type limitedBuffer struct {
	buf bytes.Buffer
	cut bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := maxHelperOut - b.buf.Len()
	if len(p) > room {
		b.cut = true
	}
	if room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *limitedBuffer) String() string { return b.buf.String() }

// classed gives err the class errdefs tests for, keeping its message.
func classed(err, class error) error {
	if errors.Is(err, class) {
		return err
	}
	return classError{err: err, class: class}
}

type classError struct{ err, class error }

func (e classError) Error() string   { return e.err.Error() }
func (e classError) Unwrap() []error { return []error{e.err, e.class} }
