package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/certs"
	"github.com/cutover/cutover/internal/certs/pebbletest"
)

// acmeRoute serves service web for "localhost" with a certificate from a real Pebble, on
// listen (TLS) and httpListen (redirect and HTTP-01), and returns the CA's roots.
func acmeRoute(t *testing.T, validity time.Duration) (m *certs.Manager, listen, httpListen string, roots *x509.CertPool, pb *pebbletest.Server) {
	t.Helper()
	pb = pebbletest.New(t)
	m = certs.New(discardLogger(), certs.Config{Directory: pb.Directory, HTTPClient: pb.Client, Dir: t.TempDir(),
		Check: 100 * time.Millisecond, Retry: 300 * time.Millisecond})
	p := startProxy(t, Config{Certs: m})
	listen, httpListen = deadAddr(t), deadAddr(t)
	r := Route{Service: "web", Listen: listen, Hosts: []string{"localhost"},
		TLS: &TLS{ACME: true, HTTPListen: httpListen, HSTS: time.Hour}}
	if err := p.SetRoute(r); err != nil {
		t.Fatal(err)
	}
	p.SetTargets("web", one(named(t, "v1")), 0)
	pb.Start(t, pebbletest.Options{HTTPPort: pebbletest.Port(t, httpListen), TLSPort: pebbletest.Port(t, listen), Validity: validity})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitCert(t, m, time.Time{})
	return m, listen, httpListen, pb.Roots(t), pb
}

// waitCert waits for a certificate of localhost valid past after.
func waitCert(t *testing.T, m *certs.Manager, after time.Time) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got time.Time
	if !pebbletest.WaitFor(ctx, func() bool {
		st := m.Status()
		if len(st) == 1 && st[0].NotAfter.After(after) {
			got = st[0].NotAfter
			return true
		}
		return false
	}) {
		t.Fatalf("no certificate issued after %v: %+v", after, m.Status())
	}
	return got
}

func localhostClient(roots *x509.CertPool, keepAlive bool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// A route with TLS.ACME is served with a certificate issued by a real ACME server for its
// host, verified by a real client; its plain address redirects to HTTPS; HSTS is set.
func TestACMERouteServesIssuedCertificate(t *testing.T) {
	_, listen, httpListen, roots, _ := acmeRoute(t, 0)
	c := localhostClient(roots, true)
	resp, err := c.Get("https://" + lh(t, listen) + "/x")
	if err != nil {
		t.Fatalf("verifying client: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "v1" {
		t.Fatalf("https: got %d %q, want 200 v1", resp.StatusCode, body)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h != "max-age=3600" {
		t.Errorf("Strict-Transport-Security %q, want max-age=3600", h)
	}
	resp, err = c.Get("http://" + lh(t, httpListen) + "/a/b?c=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "https://" + lh(t, listen) + "/a/b?c=1"
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("plain http: got %d Location %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS sent over plain HTTP")
	}
}

// lh is addr's port on "localhost", the name the certificates are for.
func lh(t *testing.T, addr string) string {
	return "localhost:" + strconv.Itoa(pebbletest.Port(t, addr))
}

// Certificates are renewed before they expire while clients keep connecting: no request
// fails, and new connections get the new certificate.
func TestACMERenewalUnderLoad(t *testing.T) {
	m, listen, _, roots, _ := acmeRoute(t, 12*time.Second)
	first := m.Status()[0].NotAfter
	url := "https://" + lh(t, listen) + "/"
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		c := localhostClient(roots, i%2 == 0) // half new connections, half kept alive
		wg.Go(func() {
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = errStatus(resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				ok.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	renewed := waitCert(t, m, first)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during renewal; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
	}
	conn, err := tls.Dial("tcp", listen, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0].NotAfter; !got.Equal(renewed) {
		t.Fatalf("new connection got a certificate ending %v, want the renewed one ending %v (first %v)", got, renewed, first)
	}
	t.Logf("%d requests during renewal, none failed", ok.Load())
}

type errStatus int

func (e errStatus) Error() string { return "status " + strconv.Itoa(int(e)) }
