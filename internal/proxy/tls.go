package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// TLS is how a route serves TLS: from a certificate and private key files (PEM), read when
// the route is set so that a new certificate takes effect at the next SetRoute (the next
// deployment), or with certificates for its hosts from an ACME directory (Config.Certs).
type TLS struct {
	CertFile, KeyFile string
	// ACME asks Config.Certs for the certificates of the route's hosts (exact names only).
	ACME bool
	// HTTPListen is an optional plain HTTP address on which the route's requests are
	// redirected to HTTPS (308) and ACME HTTP-01 challenges are answered.
	HTTPListen string
	// HSTS, when positive, is the max-age of the Strict-Transport-Security header set on the
	// route's answers over TLS.
	HSTS time.Duration
}

func (t *TLS) validate() []error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.HSTS < 0 {
		errs = append(errs, fmt.Errorf("tls hsts %v is negative", t.HSTS))
	}
	if t.ACME {
		if t.CertFile != "" || t.KeyFile != "" {
			errs = append(errs, errors.New("tls acme and tls cert/key files are exclusive"))
		}
		return errs
	}
	if t.CertFile == "" {
		errs = append(errs, errors.New("tls cert file is empty"))
	}
	if t.KeyFile == "" {
		errs = append(errs, errors.New("tls key file is empty"))
	}
	return errs
}

// loadCert reads the route's certificate; nil when the route is plain HTTP or uses ACME.
func loadCert(r Route) (*tls.Certificate, error) {
	if r.TLS == nil || r.TLS.ACME {
		return nil, nil
	}
	c, err := tls.LoadX509KeyPair(r.TLS.CertFile, r.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate %s: %w", r.TLS.CertFile, err)
	}
	return &c, nil
}

// listenerTLS is a TLS listener's certificates: those of every route on it, the first the
// default for clients that name no host (or a host no certificate covers).
type listenerTLS struct {
	certs atomic.Pointer[[]*tls.Certificate]
	acme  Certs // nil without Config.Certs
}

func (lt *listenerTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// HTTP/2 connections go to their own server (alpn.go); HTTP/1.1 ones are guarded.
		NextProtos:         []string{"h2", "http/1.1"},
		GetCertificate:     lt.certificate,
		GetConfigForClient: lt.challenge,
	}
}

// certificate picks the first file certificate that fits the client, else the ACME one of
// its name, else the first file certificate.
func (lt *listenerTLS) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	var certs []*tls.Certificate
	if cp := lt.certs.Load(); cp != nil {
		certs = *cp
	}
	for _, c := range certs {
		if hello.SupportsCertificate(c) == nil {
			return c, nil
		}
	}
	var acmeErr error
	if lt.acme != nil {
		hello.ServerName = normalHost(hello.ServerName)
		c, err := lt.acme.Certificate(hello)
		if c != nil {
			return c, nil
		}
		acmeErr = err
	}
	if len(certs) > 0 {
		return certs[0], nil
	}
	if acmeErr != nil {
		return nil, acmeErr
	}
	return nil, errors.New("no certificate for this address")
}

// setCert records the route's certificate (nil: none). Callers hold p.mu.
func (p *Proxy) setCert(service string, c *tls.Certificate) {
	if p.certs == nil {
		p.certs = make(map[string]*tls.Certificate)
	}
	if c == nil {
		delete(p.certs, service)
		return
	}
	p.certs[service] = c
}

// refreshCerts hands each TLS listener the certificates of the routes on it, ordered by
// service name. Callers hold p.mu.
func (p *Proxy) refreshCerts() {
	names := make([]string, 0, len(p.routes))
	for name := range p.routes {
		names = append(names, name)
	}
	slices.Sort(names)
	for key, l := range p.listeners {
		if l.tls == nil {
			continue
		}
		var certs []*tls.Certificate
		for _, name := range names {
			r := p.routes[name]
			if c := p.certs[name]; c != nil && (r.Listen == key || r.PreviewListen == key || slices.Contains(r.Internal, key)) {
				certs = append(certs, c)
			}
		}
		l.tls.certs.Store(&certs)
	}
}

// reopenForTLS closes the listeners in keys that r would use in the other mode (plain or
// TLS, as secure says); only r's own service uses them, as Conflict refuses routes that
// disagree. SetRoute then opens them anew in r's mode. Callers hold p.mu.
func (p *Proxy) reopenForTLS(keys []string, secure bool) {
	for _, key := range keys {
		if l := p.listeners[key]; l != nil && (l.tls != nil) != secure {
			delete(p.listeners, key)
			p.closeListener(key, l)
		}
	}
}

// withTLS sets r.TLS from g when it is a TLS connection. Like net/http's server, it reads the
// state once per connection (the handshake is over by the first request) and shares it
// between the connection's requests.
func withTLS(r *http.Request, g *guardConn) {
	if g == nil {
		return
	}
	if g.tlsState == nil {
		c, ok := g.Conn.(*tls.Conn)
		if !ok {
			return
		}
		st := c.ConnectionState()
		g.tlsState = &st
	}
	r.TLS = g.tlsState
}

// CheckTLS reports whether the route's certificate and key files can be loaded as a pair;
// nil for a plain HTTP route. It is pure but for reading the files, for validating before
// deploying.
func CheckTLS(r Route) error {
	_, err := loadCert(r)
	return err
}
