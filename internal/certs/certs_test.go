package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/certs"
	"github.com/cutover/cutover/internal/certs/pebbletest"
)

// front serves m's certificates (and its challenges) on a TLS and a plain listener, as the
// proxy does, and answers "ok" to everything else.
func front(t *testing.T, m *certs.Manager) (tlsAddr, httpAddr string) {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.ServeChallenge(w, r) {
			_, _ = io.WriteString(w, "ok")
		}
	})
	conf := &tls.Config{NextProtos: []string{"http/1.1"}, GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		if m.Challenging(h) {
			c, err := m.Certificate(h)
			return &tls.Config{Certificates: []tls.Certificate{*c}, NextProtos: []string{"acme-tls/1"}}, err
		}
		return nil, nil
	}, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		c, err := m.Certificate(h)
		if c == nil && err == nil {
			err = errors.New("unmanaged name")
		}
		return c, err
	}}
	tl, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range []net.Listener{tl, pl} {
		srv := &http.Server{Handler: ok}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return tl.Addr().String(), pl.Addr().String()
}

func run(t *testing.T, m *certs.Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// served returns the certificate a verifying TLS client gets for "localhost" at addr.
func served(t *testing.T, addr string, roots *x509.CertPool) (*x509.Certificate, error) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func waitIssued(t *testing.T, m *certs.Manager, after time.Time) certs.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var st certs.Status
	if !pebbletest.WaitFor(ctx, func() bool {
		s := m.Status()
		if len(s) == 1 && s[0].NotAfter.After(after) {
			st = s[0]
			return true
		}
		return false
	}) {
		t.Fatalf("no certificate issued: %+v", m.Status())
	}
	return st
}

func newManager(p *pebbletest.Server, dir string, mod func(*certs.Config)) *certs.Manager {
	cfg := certs.Config{Directory: p.Directory, HTTPClient: p.Client, Dir: dir, Check: 200 * time.Millisecond, Retry: 300 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	return certs.New(slog.New(slog.DiscardHandler), cfg)
}

// The manager obtains a certificate from a real ACME server by TLS-ALPN-01 or HTTP-01, a
// verifying client gets it, and a new manager over the same directory serves it at once
// (restart, hand-off, kill -9: the file is the state).
func TestIssueFromPebble(t *testing.T) {
	for _, chal := range []string{"tls-alpn-01", "http-01"} {
		t.Run(chal, func(t *testing.T) {
			dir := t.TempDir()
			p := pebbletest.New(t)
			m := newManager(p, dir, func(c *certs.Config) { c.Challenges = []string{chal} })
			tlsAddr, httpAddr := front(t, m)
			p.Start(t, pebbletest.Options{HTTPPort: pebbletest.Port(t, httpAddr), TLSPort: pebbletest.Port(t, tlsAddr)})
			roots := p.Roots(t)
			if _, err := served(t, tlsAddr, roots); err == nil {
				t.Fatal("a certificate was served before any was managed")
			}
			m.Manage("web", []string{"localhost"})
			run(t, m)
			st := waitIssued(t, m, time.Time{})
			leaf, err := served(t, tlsAddr, roots)
			if err != nil {
				t.Fatalf("verifying client: %v", err)
			}
			if !leaf.NotAfter.Equal(st.NotAfter) {
				t.Fatalf("served NotAfter %v, status %v", leaf.NotAfter, st.NotAfter)
			}

			p.Stop() // no directory at all now: the stored certificate must be enough
			m2 := newManager(p, dir, nil)
			addr2, _ := front(t, m2)
			m2.Manage("web", []string{"localhost"})
			leaf2, err := served(t, addr2, roots)
			if err != nil {
				t.Fatalf("restarted manager: %v", err)
			}
			if leaf2.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
				t.Fatalf("restarted manager served serial %v, want the stored %v", leaf2.SerialNumber, leaf.SerialNumber)
			}
		})
	}
}

// A renewal that fails (the directory cannot reach the challenge) is reported in Status and
// to the observer, the old certificate keeps being served, and the next success replaces it.
func TestRenewalFailureKeepsServing(t *testing.T) {
	p := pebbletest.New(t)
	events := make(chan certs.Event, 100)
	m := newManager(p, t.TempDir(), func(c *certs.Config) { c.Observe = func(e certs.Event) { events <- e } })
	tlsAddr, httpAddr := front(t, m)
	good := pebbletest.Options{HTTPPort: pebbletest.Port(t, httpAddr), TLSPort: pebbletest.Port(t, tlsAddr), Validity: 15 * time.Second}
	p.Start(t, good)
	roots := p.Roots(t)
	m.Manage("web", []string{"localhost"})
	run(t, m)
	first := waitIssued(t, m, time.Time{})
	if e := <-events; e.Err != nil || e.Renewal {
		t.Fatalf("first event %+v, want an issuance", e)
	}

	bad := good
	bad.TLSPort = pebbletest.Port(t, pebbletest.FreeAddr(t)) // nothing answers there
	bad.HTTPPort = bad.TLSPort
	p.Start(t, bad)
	var failed certs.Event
	for failed = range events {
		if failed.Err != nil {
			break
		}
	}
	if !failed.Renewal || failed.Host != "localhost" || len(failed.Services) != 1 {
		t.Fatalf("failure event %+v", failed)
	}
	if st := m.Status(); st[0].LastError == "" || !st[0].NotAfter.Equal(first.NotAfter) {
		t.Fatalf("status after a failed renewal %+v, want the error and the old NotAfter %v", st, first.NotAfter)
	}
	leaf, err := served(t, tlsAddr, roots)
	if err != nil || !leaf.NotAfter.Equal(first.NotAfter) {
		t.Fatalf("during failures: served %v, %v; want the first certificate", leaf, err)
	}

	p.Start(t, good)
	roots = p.Roots(t)
	st := waitIssued(t, m, first.NotAfter)
	if st.LastError != "" {
		t.Fatalf("status after a renewal %+v, want no error", st)
	}
	if leaf, err := served(t, tlsAddr, roots); err != nil || !leaf.NotAfter.Equal(st.NotAfter) {
		t.Fatalf("after renewal: served %v, %v", leaf, err)
	}
}
