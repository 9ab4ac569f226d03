package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The token server's identity as the registry's config names it.
const (
	TokenService = "berth-test-registry"
	TokenIssuer  = "berth-test-issuer"
)

// TokenServer implements Docker's token authentication specification for
// one account: GET on Realm with basic credentials and scope parameters
// answers a JWT granting the requested actions. Requests without credentials
// get a token granting nothing (so the registry answers 401); wrong
// credentials get 401 from the token server itself.
//
// docker-registry 2.8 verifies a token's signing key through the JWT
// header: "x5c" (a certificate chain ending at a root in its
// rootcertbundle), "jwk", or "kid" (a libtrust key ID). The server uses x5c
// with a self-signed ECDSA P-256 certificate that is also the whole bundle,
// and signs with ES256.
type TokenServer struct {
	// Realm is "http://localhost:PORT/token". It names localhost rather
	// than 127.0.0.1 because go-containerregistry refuses token realms at
	// private or loopback IP literals other than the registry's own host.
	Realm string

	key     *ecdsa.PrivateKey
	certDER []byte

	user, password string

	mu       sync.Mutex
	requests []TokenRequest
}

// TokenRequest records one request to the token server.
type TokenRequest struct {
	Account string // "" for an anonymous request
	Scopes  []string
	Status  int
}

// StartTokenServer starts a token server on a loopback port for the test.
func StartTokenServer(t testing.TB, user, password string) (*TokenServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: TokenIssuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ts := &TokenServer{
		Realm:    fmt.Sprintf("http://localhost:%d/token", l.Addr().(*net.TCPAddr).Port),
		key:      key,
		certDER:  der,
		user:     user,
		password: password,
	}
	srv := &http.Server{Handler: http.HandlerFunc(ts.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts, nil
}

// CertPEM returns the certificate the registry must trust.
func (ts *TokenServer) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.certDER})
}

// Requests returns the requests served so far.
func (ts *TokenServer) Requests() []TokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]TokenRequest(nil), ts.requests...)
}

func (ts *TokenServer) record(r TokenRequest) {
	ts.mu.Lock()
	ts.requests = append(ts.requests, r)
	ts.mu.Unlock()
}

type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (ts *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scopes := q["scope"]
	user, pass, hasAuth := r.BasicAuth()
	if hasAuth && (subtle.ConstantTimeCompare([]byte(user), []byte(ts.user)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(ts.password)) != 1) {
		ts.record(TokenRequest{Account: user, Scopes: scopes, Status: http.StatusUnauthorized})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}`))
		return
	}
	if q.Get("service") != TokenService {
		ts.record(TokenRequest{Account: user, Scopes: scopes, Status: http.StatusBadRequest})
		http.Error(w, "unknown service", http.StatusBadRequest)
		return
	}
	var access []accessEntry
	if hasAuth {
		access = grant(scopes)
	}
	tok, err := ts.sign(user, access)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ts.record(TokenRequest{Account: user, Scopes: scopes, Status: http.StatusOK})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": tok, "access_token": tok, "expires_in": 300,
		"issued_at": time.Now().UTC().Format(time.RFC3339),
	})
}

// grant turns "repository:NAME:pull,push" scopes (several may share one
// parameter, separated by spaces) into access claims for everything asked.
func grant(scopes []string) []accessEntry {
	var out []accessEntry
	for _, s := range scopes {
		for _, one := range strings.Fields(s) {
			// The name may contain a ':' (a registry host with a port is
			// never part of it, but be lenient): type is before the first
			// colon and actions after the last.
			first, last := strings.Index(one, ":"), strings.LastIndex(one, ":")
			if first < 0 || first == last {
				continue
			}
			out = append(out, accessEntry{
				Type:    one[:first],
				Name:    one[first+1 : last],
				Actions: strings.Split(one[last+1:], ","),
			})
		}
	}
	return out
}

func (ts *TokenServer) sign(subject string, access []accessEntry) (string, error) {
	now := time.Now()
	header := map[string]any{
		"typ": "JWT",
		"alg": "ES256",
		"x5c": []string{base64.StdEncoding.EncodeToString(ts.certDER)},
	}
	var jti [8]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	if access == nil {
		access = []accessEntry{}
	}
	claims := map[string]any{
		"iss":    TokenIssuer,
		"sub":    subject,
		"aud":    TokenService,
		"exp":    now.Add(5 * time.Minute).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"iat":    now.Unix(),
		"jti":    fmt.Sprintf("%x", jti),
		"access": access,
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are R and S as fixed-size big-endian octets.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc.EncodeToString(sig), nil
}
