package rollout

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/promtest"
	"github.com/cutover/cutover/internal/spec"
)

// testPKI is a CA, a server certificate for prometheus.test only (no IP address: a check
// that dials 127.0.0.1 must name the server) and a client certificate, as PEM files in dir.
type testPKI struct {
	dir                                              string
	ca, serverCert, serverKey, clientCert, clientKey string
	caPool                                           *x509.CertPool
}

func newPKI(t *testing.T, dir, name string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p := testPKI{dir: dir, caPool: x509.NewCertPool()}
	p.caPool.AddCert(caCert)
	write := func(file, typ string, der []byte) string {
		path := filepath.Join(dir, name+"-"+file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.ca = write("ca.pem", "CERTIFICATE", caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, dns []string) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint(name, serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: dns,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		return write(fmt.Sprint(serial, ".pem"), "CERTIFICATE", der), write(fmt.Sprint(serial, ".key"), "EC PRIVATE KEY", kb)
	}
	p.serverCert, p.serverKey = leaf(2, x509.ExtKeyUsageServerAuth, []string{"prometheus.test"})
	p.clientCert, p.clientKey = leaf(3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

// authCase is one way of reaching a secured Prometheus and what the canary's verdict must be.
type authCase struct {
	name   string
	auth   *spec.PrometheusAuth
	tls    *spec.PrometheusTLS
	env    map[string]string
	query  string
	status Status
	out    analysis.Outcome
	reason string // in the verdict's reason
}

// runAuthCase drives a canary judged by one check against base and checks its verdict, and
// that no stored state carries a credential.
func runAuthCase(t *testing.T, base string, tc authCase, secrets ...string) {
	t.Helper()
	chk := check(base)
	chk.Query, chk.Auth, chk.TLS = tc.query, tc.auth, tc.tls
	d := canaryDeployment(400*time.Millisecond, chk)
	d.Spec.Run.Env = tc.env
	w := drive(t, d)
	st := last(w)
	if st.Status != tc.status || st.Verdict == nil || st.Verdict.Outcome != tc.out || !strings.Contains(st.Verdict.Reason, tc.reason) {
		t.Fatalf("status %s (%s), verdict %+v; want %s on %s with a reason containing %q", st.Status, st.Reason, st.Verdict, tc.status, tc.out, tc.reason)
	}
	all, _ := json.Marshal(w.states)
	for _, s := range secrets {
		if strings.Contains(string(all), s) || strings.Contains(st.Reason, s) {
			t.Errorf("a stored state or reason carries the credential %q", s)
		}
	}
}

// TestPrometheusBasicAuthAndTLS judges canaries by a real Prometheus that serves https
// only, with a private CA, asks for a client certificate and for basic auth
// (--web.config.file). With every setting right the check reaches it: a failing query rolls
// the canary back, a passing one promotes it. Each wrong setting leaves the check
// inconclusive with the reason, never a fail verdict, and no credential is stored.
func TestPrometheusBasicAuthAndTLS(t *testing.T) {
	dir := t.TempDir()
	pki, other := newPKI(t, dir, "good"), newPKI(t, dir, "other")
	const password = "s3cret-prom-pass"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	addr := promtest.Start(t, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"+
		"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\nbasic_auth_users:\n  cutover: %s\n",
		pki.serverCert, pki.serverKey, pki.ca, hash))
	base := "https://" + addr
	good := &spec.PrometheusTLS{CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "prometheus.test"}
	basic := &spec.PrometheusAuth{Username: "cutover", PasswordEnv: "PROM_BASIC"}
	env := map[string]string{"PROM_BASIC": password}
	with := func(f func(*spec.PrometheusTLS)) *spec.PrometheusTLS { c := *good; f(&c); return &c }
	const failing, passing = "vector(0.5)", "vector(0.001)"
	for _, tc := range []authCase{
		{"all right, failing canary", basic, good, env, failing, StatusRolledBack, analysis.Fail, "does not satisfy result < 0.01"},
		{"all right, healthy canary", basic, good, env, passing, StatusSucceeded, analysis.Pass, "prometheus checks pass"},
		{"wrong password", basic, good, map[string]string{"PROM_BASIC": "wrong-password"}, failing, StatusPaused, analysis.Inconclusive, "refused the credentials (basic auth cutover:[redacted]): HTTP 401"},
		{"no credentials", nil, good, nil, failing, StatusPaused, analysis.Inconclusive, "HTTP 401"},
		{"password not in env", basic, good, nil, failing, StatusPaused, analysis.Inconclusive, "auth.password_env: PROM_BASIC is not set in the service's env or secrets"},
		{"untrusted CA", basic, with(func(c *spec.PrometheusTLS) { c.CAFile = other.ca }), env, failing, StatusPaused, analysis.Inconclusive, "certificate signed by unknown authority"},
		{"system CAs only", basic, with(func(c *spec.PrometheusTLS) { c.CAFile = "" }), env, failing, StatusPaused, analysis.Inconclusive, "unreachable"},
		{"no server name", basic, with(func(c *spec.PrometheusTLS) { c.ServerName = "" }), env, failing, StatusPaused, analysis.Inconclusive, "127.0.0.1"},
		{"no client certificate", basic, with(func(c *spec.PrometheusTLS) { c.CertFile, c.KeyFile = "", "" }), env, failing, StatusPaused, analysis.Inconclusive, "unreachable"},
		{"client certificate of another CA", basic, with(func(c *spec.PrometheusTLS) { c.CertFile, c.KeyFile = other.clientCert, other.clientKey }), env, failing, StatusPaused, analysis.Inconclusive, "unreachable"},
		{"CA file missing", basic, with(func(c *spec.PrometheusTLS) { c.CAFile = filepath.Join(dir, "none.pem") }), env, failing, StatusPaused, analysis.Inconclusive, "tls.ca_file"},
	} {
		t.Run(tc.name, func(t *testing.T) { runAuthCase(t, base, tc, password, "wrong-password") })
	}
}

// TestPrometheusBearerToken judges canaries through an https reverse proxy on loopback that
// lets a query reach the real test Prometheus only with the right bearer token, as a
// gateway in front of a managed Prometheus does.
func TestPrometheusBearerToken(t *testing.T) {
	promBase, _ := promtest.Require(t)
	target, err := url.Parse(promBase)
	if err != nil {
		t.Fatal(err)
	}
	const token = "tok-0123456789abcdef"
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	pki := newPKI(t, t.TempDir(), "bearer")
	cert, err := tls.LoadX509KeyPair(pki.serverCert, pki.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "https://127.0.0.1:" + port
	auth := &spec.PrometheusAuth{BearerTokenEnv: "PROM_TOKEN"}
	tlsOK := &spec.PrometheusTLS{CAFile: pki.ca, ServerName: "prometheus.test"}
	for _, tc := range []authCase{
		{"right token, failing canary", auth, tlsOK, map[string]string{"PROM_TOKEN": token}, "vector(0.5)", StatusRolledBack, analysis.Fail, "does not satisfy"},
		{"wrong token", auth, tlsOK, map[string]string{"PROM_TOKEN": "tok-wrong-wrong"}, "vector(0.5)", StatusPaused, analysis.Inconclusive, "refused the credentials (bearer token [redacted]): HTTP 401"},
	} {
		t.Run(tc.name, func(t *testing.T) { runAuthCase(t, base, tc, token, "tok-wrong-wrong") })
	}
}
