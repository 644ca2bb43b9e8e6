package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for host (and 127.0.0.1) and its key to dir
// and returns the files and a pool trusting it.
func selfSigned(t *testing.T, dir, host string) (*TLS, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := &TLS{CertFile: filepath.Join(dir, host+".crt"), KeyFile: filepath.Join(dir, host+".key")}
	if err := os.WriteFile(files.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return files, pool
}

func tlsClient(pool *x509.CertPool, serverName string) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName},
	}}
}

// TestRouteTLS serves two services over TLS on one address, each with its own certificate
// chosen by the client's server name; the upstream learns the scheme from X-Forwarded-Proto.
// Plain HTTP on the TLS address, and ambiguous requests over TLS, reach no upstream.
func TestRouteTLS(t *testing.T) {
	dir := t.TempDir()
	webFiles, webPool := selfSigned(t, dir, "web.example")
	apiFiles, apiPool := selfSigned(t, dir, "api.example")
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Hosts: []string{"web.example"}, TLS: webFiles})
	if err := p.SetRoute(Route{Service: "api", Listen: "127.0.0.1:0", Hosts: []string{"api.example"}, TLS: apiFiles}); err != nil {
		t.Fatal(err)
	}
	webUp, webCount, webSeen := countingUpstream(t)
	apiUp, _, apiSeen := countingUpstream(t)
	p.SetTargets("web", one(webUp), 0)
	p.SetTargets("api", one(apiUp), 0)

	for _, tc := range []struct {
		host string
		pool *x509.CertPool
		seen chan http.Header
	}{{"web.example", webPool, webSeen}, {"api.example", apiPool, apiSeen}} {
		// Twice on one client: the second request comes on the kept-alive connection, whose
		// TLS state the proxy read at the first.
		c := tlsClient(tc.pool, tc.host)
		for i := range 2 {
			got := do(t, c, http.MethodGet, "https://"+addr+"/", tc.host, nil)
			if got.status != http.StatusOK || got.body != "ok" {
				t.Errorf("https %s, request %d: got %d %q, want 200 ok", tc.host, i, got.status, got.body)
			}
			if h := <-tc.seen; h.Get("X-Forwarded-Proto") != "https" {
				t.Errorf("upstream of %s saw X-Forwarded-Proto %q at request %d, want https", tc.host, h.Get("X-Forwarded-Proto"), i)
			}
		}
	}
	// The web certificate does not verify for api.example: each host gets its own.
	if _, err := tlsClient(webPool, "api.example").Get("https://" + addr + "/"); err == nil {
		t.Errorf("api.example verified with the web certificate, want a certificate error")
	}

	before := webCount.Load()
	if s := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: web.example\r\n\r\n"); s >= 200 && s < 400 {
		t.Errorf("plain HTTP on the TLS address: got %d, want a refusal", s)
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: webPool, ServerName: "web.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("ambiguous request over TLS: got %d, want 400", resp.StatusCode)
	}
	if n := webCount.Load() - before; n != 0 {
		t.Errorf("%d refused requests reached the upstream, want 0", n)
	}
}

// TestRouteTLSErrors refuses bad certificate files and a plain route on a TLS address,
// naming the cause and changing nothing.
func TestRouteTLSErrors(t *testing.T) {
	dir := t.TempDir()
	files, _ := selfSigned(t, dir, "web.example")
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Hosts: []string{"web.example"}, TLS: files})

	missing := &TLS{CertFile: filepath.Join(dir, "nope.crt"), KeyFile: files.KeyFile}
	tests := []struct {
		name  string
		route Route
		want  string
	}{
		{"missing cert file", Route{Service: "web", Listen: addr, TLS: missing}, "nope.crt"},
		{"empty key file", Route{Service: "web", Listen: addr, TLS: &TLS{CertFile: files.CertFile}}, "tls key file is empty"},
		{"plain route on the TLS address", Route{Service: "other", Listen: "127.0.0.1:0", Hosts: []string{"other.example"}}, "conflicts with the route of service web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.SetRoute(tt.route)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SetRoute: got %v, want an error naming %q", err, tt.want)
			}
		})
	}
	p.mu.Lock()
	r := p.routes["web"]
	_, other := p.routes["other"]
	p.mu.Unlock()
	if r.TLS != files || r.Listen != "127.0.0.1:0" || other {
		t.Errorf("refused routes changed the table: web %+v, other set %v", r, other)
	}
}

// TestRouteSwitchesToTLS redeploys a plain route with TLS on the same address: the address
// is reopened for TLS, and plain HTTP there no longer reaches the app.
func TestRouteSwitchesToTLS(t *testing.T) {
	files, pool := selfSigned(t, t.TempDir(), "web.example")
	p := startProxy(t, Config{})
	_, addr := routeSpare(t, p, Route{Service: "web"}, false)
	up, count, _ := countingUpstream(t)
	p.SetTargets("web", one(up), 0)
	if got := get(t, addr, "/"); got.status != http.StatusOK {
		t.Fatalf("plain route: got %d", got.status)
	}
	if err := p.SetRoute(Route{Service: "web", Listen: addr, TLS: files}); err != nil {
		t.Fatalf("switch to TLS: %v", err)
	}
	got := do(t, tlsClient(pool, "web.example"), http.MethodGet, "https://"+addr+"/", "", nil)
	if got.status != http.StatusOK {
		t.Errorf("https after the switch: got %d %q", got.status, got.body)
	}
	before := count.Load()
	if s := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: web.example\r\n\r\n"); s >= 200 && s < 400 {
		t.Errorf("plain HTTP after the switch: got %d, want a refusal", s)
	}
	if n := count.Load() - before; n != 0 {
		t.Errorf("%d plain requests reached the app after the switch", n)
	}
}
