// Package pebbletest runs Let's Encrypt's Pebble (a real ACME server for tests) for one
// test, on loopback only, validating challenges on the ports the test names. The binary
// comes from $CUTOVER_TEST_PEBBLE, PATH or $(go env GOPATH)/bin (scripts/install-pebble puts
// it there); without it the test is skipped, or fails under CI=true. Imported only by tests.
package pebbletest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Options are one run's settings.
type Options struct {
	// HTTPPort and TLSPort are where Pebble validates HTTP-01 and TLS-ALPN-01 challenges
	// (on the address the name resolves to: 127.0.0.1 for "localhost").
	HTTPPort, TLSPort int
	// Validity of the certificates it issues (default 90 days).
	Validity time.Duration
}

// Server is a Pebble at a fixed address, started and stopped by the test.
type Server struct {
	// Directory is the ACME directory URL.
	Directory string
	// Client trusts Pebble's own HTTPS certificate; give it to the ACME client.
	Client            *http.Client
	dir, addr, mgmt   string
	certFile, keyFile string
	runs              int
	cmd               *exec.Cmd
}

// New prepares a Pebble on a free loopback port; nothing runs until Start.
func New(t testing.TB) *Server {
	t.Helper()
	Binary(t)
	s := &Server{dir: t.TempDir(), addr: FreeAddr(t), mgmt: FreeAddr(t)}
	var pool *x509.CertPool
	s.certFile, s.keyFile, pool = selfSigned(t, s.dir)
	s.Directory = "https://" + s.addr + "/dir"
	s.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(s.Stop)
	return s
}

// CAFile is the PEM file of the certificate of Pebble's own HTTPS listener, to trust for
// the directory (cutover serve --acme-ca).
func (s *Server) CAFile() string { return s.certFile }

// Start runs Pebble (a new CA, with no accounts) until Stop or the test's end.
func (s *Server) Start(t testing.TB, o Options) {
	t.Helper()
	s.Stop()
	if o.Validity == 0 {
		o.Validity = 90 * 24 * time.Hour
	}
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": s.addr, "managementListenAddress": s.mgmt,
		"certificate": s.certFile, "privateKey": s.keyFile,
		"httpPort": o.HTTPPort, "tlsPort": o.TLSPort, "keyAlgorithm": "ecdsa",
		"profiles": map[string]any{"default": map[string]any{"description": "test", "validityPeriod": int(o.Validity.Seconds())}},
	}}
	b, _ := json.Marshal(conf)
	s.runs++
	cfgPath := filepath.Join(s.dir, fmt.Sprintf("pebble-%d.json", s.runs))
	logPath := filepath.Join(s.dir, fmt.Sprintf("pebble-%d.log", s.runs))
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	s.cmd = exec.Command(Binary(t), "-config", cfgPath)
	s.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("pebbletest: start: %v", err)
	}
	s.waitReady(t, logPath)
}

// Binary returns Pebble's path, skipping t (failing it under CI=true) when it is absent.
func Binary(t testing.TB) string {
	t.Helper()
	cands := []string{os.Getenv("CUTOVER_TEST_PEBBLE")}
	if p, err := exec.LookPath("pebble"); err == nil {
		cands = append(cands, p)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		cands = append(cands, filepath.Join(strings.TrimSpace(string(out)), "bin", "pebble"))
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("pebbletest: pebble not found (run scripts/install-pebble)")
	}
	t.Skip("pebbletest: pebble not found (run scripts/install-pebble)")
	return ""
}

// Stop ends the server (idempotent).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *Server) waitReady(t testing.TB, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := s.Client.Get(s.Directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("pebbletest: not ready after 30s:\n%s", b)
}

// Roots returns the pool of the CA that signs the issued certificates.
func (s *Server) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, path := range []string{"/roots/0", "/intermediates/0"} {
		resp, err := s.Client.Get("https://" + s.mgmt + path)
		if err != nil {
			t.Fatalf("pebbletest: %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !pool.AppendCertsFromPEM(b) {
			t.Fatalf("pebbletest: %s: no certificate in %q", path, b)
		}
	}
	return pool
}

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Port returns addr's port.
func Port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	_, _ = fmt.Sscan(p, &n)
	return n
}

// selfSigned writes a certificate for Pebble's own HTTPS listener and returns its files
// and a pool that trusts it.
func selfSigned(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	leaf, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}

// WaitFor polls cond every 50ms until it holds or ctx ends.
func WaitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}
