package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
)

// The credential helper protocol (docker-credential-helpers): the program
// docker-credential-NAME is run with one argument, the action, and talks
// JSON over stdin and stdout.
//
//	get    stdin: server URL               stdout: {"ServerURL","Username","Secret"}
//	store  stdin: {"ServerURL","Username","Secret"}
//	erase  stdin: server URL
//
// A helper that has nothing for the server exits non-zero and prints
// "credentials not found in native keychain". A Username of "<token>"
// marks Secret as an identity (refresh) token.

const (
	helperNotFound = "credentials not found in native keychain"
	identityUser   = "<token>"
	maxHelperOut   = 1 << 20
)

type helperCreds struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

var errHelperNotFound = errors.New(helperNotFound)

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
	return true
}

func (k *ConfigKeychain) runHelper(ctx context.Context, helper, action string, stdin []byte) ([]byte, error) {
	if !validHelperName(helper) {
		return nil, fmt.Errorf("credential helper name %q: %w", helper, errdefs.ErrInvalidArgument)
	}
	prog := "docker-credential-" + helper
	path, err := k.lookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("credential helper %s: %w", prog, withClass(err, errdefs.ErrNotFound))
	}
	cmd := exec.CommandContext(ctx, path, action)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stdout.String())
		if strings.Contains(msg, helperNotFound) {
			return nil, errHelperNotFound
		}
		if msg == "" {
			msg = strings.TrimSpace(stderr.String())
		}
		return nil, fmt.Errorf("%s %s: %w: %s", prog, action, err, msg)
	}
	return stdout.Bytes(), nil
}

// helperGet asks a helper for server's credentials.
func (k *ConfigKeychain) helperGet(ctx context.Context, helper, server string) (authn.AuthConfig, bool, error) {
	out, err := k.runHelper(ctx, helper, "get", []byte(server))
	if errors.Is(err, errHelperNotFound) {
		return authn.AuthConfig{}, false, nil
	}
	if err != nil {
		return authn.AuthConfig{}, false, err
	}
	var c helperCreds
	if err := json.Unmarshal(out, &c); err != nil {
		return authn.AuthConfig{}, false, fmt.Errorf("docker-credential-%s get: answer is not JSON: %w", helper, invalid(err))
	}
	if c.Username == identityUser {
		return authn.AuthConfig{IdentityToken: c.Secret}, true, nil
	}
	if c.Username == "" && c.Secret == "" {
		return authn.AuthConfig{}, false, nil
	}
	return authn.AuthConfig{Username: c.Username, Password: c.Secret}, true, nil
}

func (k *ConfigKeychain) helperStore(ctx context.Context, helper, server, user, secret string) error {
	in, err := json.Marshal(helperCreds{ServerURL: server, Username: user, Secret: secret})
	if err != nil {
		return err
	}
	_, err = k.runHelper(ctx, helper, "store", in)
	return err
}

func (k *ConfigKeychain) helperErase(ctx context.Context, helper, server string) error {
	_, err := k.runHelper(ctx, helper, "erase", []byte(server))
	if errors.Is(err, errHelperNotFound) {
		return nil
	}
	return err
}

// limitedBuffer keeps the first maxHelperOut bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxHelperOut - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
