package testregistry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-dev/berth/internal/testutil"
)

// Auth selects how the registry authenticates clients.
type Auth int

const (
	// AuthNone lets anyone pull and push.
	AuthNone Auth = iota
	// AuthBasic checks HTTP basic credentials against an htpasswd file.
	AuthBasic
	// AuthToken answers with a bearer challenge whose realm is a token
	// server run by the test; the token server checks basic credentials
	// and signs JWTs the registry trusts.
	AuthToken
)

func (a Auth) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthBasic:
		return "basic"
	case AuthToken:
		return "token"
	}
	return fmt.Sprintf("Auth(%d)", int(a))
}

// Options configure Start.
type Options struct {
	Auth Auth
	// User and Password are the one account of AuthBasic and AuthToken;
	// empty means "berth" and a fixed test password.
	User, Password string
}

// Registry is a running docker-registry.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// User and Password are the account for AuthBasic and AuthToken.
	User, Password string
	Auth           Auth
	// Dir is the registry's storage root.
	Dir string
	// Token is the token server of AuthToken, nil otherwise.
	Token *TokenServer
}

const (
	defaultUser     = "berth"
	defaultPassword = "test-password-1"
	readyTimeout    = 15 * time.Second
)

// Start starts a registry for the test and stops it when the test ends.
// It skips the test when docker-registry is not installed (and fails it
// under BERTH_CI=1).
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	bin := testutil.RequireBinary(t, "docker-registry")
	dir := t.TempDir()
	r := &Registry{User: opts.User, Password: opts.Password, Auth: opts.Auth, Dir: filepath.Join(dir, "storage")}
	if r.User == "" {
		r.User = defaultUser
	}
	if r.Password == "" {
		r.Password = defaultPassword
	}
	authYAML, err := r.authConfig(t, dir)
	if err != nil {
		t.Fatalf("configure registry auth: %v", err)
	}
	// The port is picked by binding :0 and closing the listener, so another
	// process may take it before the registry binds it: try a few times.
	var lastErr error
	for range 3 {
		if lastErr = r.start(t, bin, dir, authYAML); lastErr == nil {
			return r
		}
	}
	t.Fatalf("start docker-registry: %v", lastErr)
	return nil
}

func (r *Registry) authConfig(t testing.TB, dir string) (string, error) {
	switch r.Auth {
	case AuthNone:
		return "", nil
	case AuthBasic:
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(path, fmt.Appendf(nil, "%s:%s\n", r.User, hash), 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", path), nil
	case AuthToken:
		ts, err := StartTokenServer(t, r.User, r.Password)
		if err != nil {
			return "", err
		}
		r.Token = ts
		bundle := filepath.Join(dir, "token-root.pem")
		if err := os.WriteFile(bundle, ts.CertPEM(), 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf("auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n",
			ts.Realm, TokenService, TokenIssuer, bundle), nil
	}
	return "", fmt.Errorf("unknown auth mode %v", r.Auth)
}

func (r *Registry) start(t testing.TB, bin, dir, authYAML string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: berth-test-secret
%s`, r.Dir, host, authYAML)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("registry-%d.log", port))
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	stop := func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
	}
	if err := waitReady(host, exited); err != nil {
		stop()
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("registry on %s: %w\n%s", host, err, tail(out))
	}
	r.Host = host
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("docker-registry log (%s):\n%s", host, tail(out))
		}
	})
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /v2/ until the registry answers (200 or 401) or exits.
func waitReady(host string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it was ready: %v", err)
		case <-ctx.Done():
			return errors.New("not ready in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func tail(b []byte) string {
	const max = 4096
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// Ref returns "HOST/repo" followed by suffix (":tag" or "@digest").
func (r *Registry) Ref(repo, suffix string) string {
	return r.Host + "/" + strings.TrimPrefix(repo, "/") + suffix
}

// Creds returns "user:password" for skopeo's --creds flags, or "" when the
// registry needs none.
func (r *Registry) Creds() string {
	if r.Auth == AuthNone {
		return ""
	}
	return r.User + ":" + r.Password
}
