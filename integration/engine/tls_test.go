package engine_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// certs writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as docker's TLS setup names them.
func certs(t *testing.T, dir string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey := key()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, leaf := range []struct {
		name string
		ext  x509.ExtKeyUsage
	}{{"server", x509.ExtKeyUsageServerAuth}, {"client", x509.ExtKeyUsageClientAuth}} {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: leaf.name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{leaf.ext},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		prefix := map[string]string{"server": "server-", "client": ""}[leaf.name]
		write(prefix+"cert.pem", "CERTIFICATE", der)
		write(prefix+"key.pem", "EC PRIVATE KEY", kder)
	}
}

// TestTLS: TCP with client certificates required; the docker CLI with
// its certificates gets in, without them it does not.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certs(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	d := newDaemon(t, "-H", "tcp://127.0.0.1:"+port, "--tlsverify",
		"--tlscacert", filepath.Join(dir, "ca.pem"), "--tlscert", filepath.Join(dir, "server-cert.pem"), "--tlskey", filepath.Join(dir, "server-key.pem"))
	docker := func(env ...string) (string, error) {
		cmd := exec.Command("docker", "-H", "tcp://127.0.0.1:"+port, "version", "--format", "{{.Server.APIVersion}}")
		cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + d.dir, "DOCKER_CONFIG=" + d.config}, env...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := docker("DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+dir)
	if err != nil || out != "1.51" {
		t.Errorf("docker with client certificates over TLS: got %q, %v, want 1.51", out, err)
	}
	// A client that trusts the server but has no certificate of its own
	// is refused.
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := client.Get("https://127.0.0.1:" + port + "/_ping"); err == nil {
		resp.Body.Close()
		t.Errorf("TLS without a client certificate: got %s, want the handshake refused", resp.Status)
	}
	// Plain HTTP to the TLS port: refused.
	if out, err := docker(); err == nil {
		t.Errorf("docker over plain TCP: got %q, want a failure", out)
	}
	// The unix socket still works beside it.
	if got := strings.TrimSpace(d.OK("version", "--format", "{{.Server.Os}}")); got != "linux" {
		t.Errorf("docker over the socket: got %q", got)
	}
}
